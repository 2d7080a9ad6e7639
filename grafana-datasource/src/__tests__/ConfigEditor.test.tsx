import { DataSourceSettings } from '@grafana/data';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React, { useState } from 'react';

import { ConfigEditor } from '../components/ConfigEditor';
import { ScmonOptions, ScmonSecureOptions } from '../types';

type Settings = DataSourceSettings<ScmonOptions, ScmonSecureOptions>;

/** saved is a data source as Grafana sends it back: secrets only flagged as set. */
function saved(jsonData: ScmonOptions, secureJsonFields: Record<string, boolean> = {}): Settings {
  return {
    id: 1,
    uid: 'scmon',
    orgId: 1,
    name: 'scmon',
    type: 'scmon-scmon-datasource',
    typeName: 'scmon',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- still a required field of the type
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    withCredentials: false,
    readOnly: false,
    jsonData,
    secureJsonFields,
  };
}

function Page({ initial, emitted }: { initial: Settings; emitted: Settings[] }) {
  const [options, setOptions] = useState(initial);
  return (
    <ConfigEditor
      options={options}
      onOptionsChange={(o) => {
        emitted.push(o);
        setOptions(o);
      }}
    />
  );
}

function setup(initial: Settings) {
  const emitted: Settings[] = [];
  render(<Page initial={initial} emitted={emitted} />);
  return { emitted, last: () => emitted[emitted.length - 1], user: userEvent.setup({ delay: null }) };
}

describe('ConfigEditor', () => {
  it('writes URL, timeout and the basic-auth user to jsonData and the password to secureJsonData only', async () => {
    const { user, last } = setup(saved({}));
    await user.type(screen.getByLabelText(/^URL/), 'http://scmon:9810');
    await user.type(screen.getByLabelText(/^Timeout/), '45');
    await user.type(screen.getByLabelText(/^Basic auth user/), 'grafana');
    await user.type(screen.getByLabelText(/^Basic auth password/), 's3cret');
    const o = last();
    expect(o.jsonData).toEqual({ url: 'http://scmon:9810', timeout: 45, basicAuthUser: 'grafana' });
    expect(o.secureJsonData).toEqual({ basicAuthPassword: 's3cret' });
    expect(JSON.stringify(o.jsonData)).not.toContain('s3cret');
  });

  it('never shows a saved password, only that it is set, and resets it', async () => {
    const { user, last } = setup(saved({ url: 'http://scmon:9810', basicAuthUser: 'grafana' }, { basicAuthPassword: true }));
    const field = screen.getByLabelText(/^Basic auth password/) as HTMLInputElement;
    expect(field).toBeDisabled();
    expect(field.value).toBe('configured');
    expect(document.body.innerHTML).not.toContain('s3cret');

    await user.click(screen.getAllByRole('button', { name: 'Reset' })[0]);
    expect(last().secureJsonFields.basicAuthPassword).toBe(false);
    expect(last().secureJsonData).toEqual({ basicAuthPassword: '' });
    expect(screen.getByLabelText(/^Basic auth password/)).toBeEnabled();
  });

  it('keeps grouping by account and user off until switched on', async () => {
    const { user, last } = setup(saved({ url: 'http://scmon:9810' }));
    const sw = screen.getByLabelText(/^Allow grouping by account and user/) as HTMLInputElement;
    expect(sw.checked).toBe(false);
    await user.click(sw);
    expect(last().jsonData).toEqual({ url: 'http://scmon:9810', allowGroupByAccountUser: true });
  });

  it('sets the TLS options', async () => {
    const { user, last } = setup(saved({ url: 'https://scmon:9810' }));
    await user.click(screen.getByLabelText(/^Skip certificate verification/));
    await user.type(screen.getByLabelText(/^Server name/), 'scmon.example.org');
    await user.type(screen.getByLabelText(/^CA certificate/), 'PEM');
    expect(last().jsonData).toEqual({ url: 'https://scmon:9810', tlsSkipVerify: true, tlsServerName: 'scmon.example.org' });
    expect(last().secureJsonData).toEqual({ tlsCACert: 'PEM' });
  });
});
