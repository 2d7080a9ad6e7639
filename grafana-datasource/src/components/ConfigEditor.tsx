import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, SecretInput, SecretTextArea, Switch } from '@grafana/ui';
import React, { ChangeEvent } from 'react';

import { ScmonOptions, ScmonSecureOptions } from '../types';

export type Props = DataSourcePluginOptionsEditorProps<ScmonOptions, ScmonSecureOptions>;

type SecureKey = keyof ScmonSecureOptions;

/**
 * ConfigEditor is the data source's settings page. Secrets (the basic-auth
 * password, TLS keys) go to secureJsonData: Grafana encrypts them and
 * never sends them back, so the page only knows whether each is set and
 * offers to reset it.
 */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData ?? {};
  const secureFields = options.secureJsonFields ?? {};
  const secureData = (options.secureJsonData ?? {}) as ScmonSecureOptions;

  const setJSON = <K extends keyof ScmonOptions>(key: K, value: ScmonOptions[K]) =>
    onOptionsChange({ ...options, jsonData: { ...jsonData, [key]: value } });
  const setSecret = (key: SecureKey, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureData, [key]: value } });
  const resetSecret = (key: SecureKey) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureFields, [key]: false },
      secureJsonData: { ...secureData, [key]: '' },
    });
  const secret = (key: SecureKey) => ({
    isConfigured: Boolean(secureFields[key]),
    onReset: () => resetSecret(key),
  });

  return (
    <>
      <FieldSet label="scmon">
        <Field label="URL" description="The address of `scmon serve`, with a path prefix behind a reverse proxy" required>
          <Input
            id="scmon-url"
            width={60}
            placeholder="http://scmon.example.org:9810"
            value={jsonData.url ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setJSON('url', e.currentTarget.value)}
          />
        </Field>
        <Field label="Timeout" description="Seconds per request to scmon (default 30, at most 600)">
          <Input
            id="scmon-timeout"
            width={20}
            type="number"
            min={1}
            max={600}
            placeholder="30"
            value={jsonData.timeout ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => {
              const s = e.currentTarget.value;
              setJSON('timeout', s === '' ? undefined : Number(s));
            }}
          />
        </Field>
      </FieldSet>

      <FieldSet label="Authentication">
        <Field label="Basic auth user" description="When scmon's web configuration asks for basic authentication">
          <Input
            id="scmon-basic-user"
            width={40}
            value={jsonData.basicAuthUser ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setJSON('basicAuthUser', e.currentTarget.value)}
          />
        </Field>
        <Field label="Basic auth password">
          <SecretInput
            id="scmon-basic-password"
            width={40}
            {...secret('basicAuthPassword')}
            value={secureData.basicAuthPassword ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setSecret('basicAuthPassword', e.currentTarget.value)}
          />
        </Field>
      </FieldSet>

      <FieldSet label="TLS">
        <Field label="Skip certificate verification" description="Accept any certificate (test setups only)">
          <Switch
            id="scmon-tls-skip-verify"
            value={Boolean(jsonData.tlsSkipVerify)}
            onChange={(e: React.FormEvent<HTMLInputElement>) => setJSON('tlsSkipVerify', e.currentTarget.checked)}
          />
        </Field>
        <Field label="Server name" description="The name the certificate must carry, when not the URL's host">
          <Input
            id="scmon-tls-server-name"
            width={40}
            value={jsonData.tlsServerName ?? ''}
            onChange={(e: ChangeEvent<HTMLInputElement>) => setJSON('tlsServerName', e.currentTarget.value)}
          />
        </Field>
        <Field label="CA certificate" description="PEM; the system's CAs when empty">
          <SecretTextArea
            id="scmon-tls-ca"
            cols={60}
            rows={4}
            {...secret('tlsCACert')}
            onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setSecret('tlsCACert', e.currentTarget.value)}
          />
        </Field>
        <Field label="Client certificate" description="PEM, for scmon's client certificate authentication">
          <SecretTextArea
            id="scmon-tls-client-cert"
            cols={60}
            rows={4}
            {...secret('tlsClientCert')}
            onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setSecret('tlsClientCert', e.currentTarget.value)}
          />
        </Field>
        <Field label="Client key" description="PEM; goes with the client certificate">
          <SecretTextArea
            id="scmon-tls-client-key"
            cols={60}
            rows={4}
            {...secret('tlsClientKey')}
            onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setSecret('tlsClientKey', e.currentTarget.value)}
          />
        </Field>
      </FieldSet>

      <FieldSet label="Privacy">
        <Field
          label="Allow grouping by account and user"
          description="Off: queries that group or filter figures by account or user are refused, and the account and user lists are not served. Anyone who can query this data source would otherwise see usage per user."
        >
          <Switch
            id="scmon-allow-account-user"
            value={Boolean(jsonData.allowGroupByAccountUser)}
            onChange={(e: React.FormEvent<HTMLInputElement>) =>
              setJSON('allowGroupByAccountUser', e.currentTarget.checked)
            }
          />
        </Field>
      </FieldSet>
    </>
  );
}
