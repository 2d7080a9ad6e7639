// The screenshot harness: the plugin's editors rendered outside Grafana
// with the real @grafana/ui components and Grafana's dark theme, their
// pickers filled with a sample center's values. scripts/screenshots.sh
// builds it and photographs it in headless Chromium; location.hash picks
// the editor (#figures, #jobs, #config).
import { DataSourceSettings, createTheme, dateTime } from '@grafana/data';
import { TemplateSrv, setTemplateSrv } from '@grafana/runtime';
import { GlobalStyles, ThemeContext } from '@grafana/ui';
import { css } from '@emotion/css';
import React from 'react';
import { createRoot } from 'react-dom/client';

import { ConfigEditor } from '../src/components/ConfigEditor';
import { QueryEditor } from '../src/components/QueryEditor';
import { DataSource } from '../src/datasource';
import { ScmonOptions, ScmonQuery, ScmonSecureOptions } from '../src/types';

const theme = createTheme({ colors: { mode: 'dark' } });

setTemplateSrv({
  getVariables: () => [{ name: 'partition' }, { name: 'account' }],
  replace: (s?: string) => s ?? '',
  containsTemplate: () => false,
  updateTimeRange: () => {},
} as unknown as TemplateSrv);

const sample: Record<string, string[]> = {
  clusters: ['taihu'],
  partitions: ['cpu', 'gpu', 'npu', 'viz'],
  accounts: ['astro', 'climate', 'llm-pretrain'],
  kinds: ['gpu', 'npu'],
  models: ['a100', 'h100', 'ascend910b'],
};

const ds = new DataSource({
  id: 1,
  uid: 'scmon',
  type: 'scmon-scmon-datasource',
  name: 'scmon',
  access: 'proxy',
  readOnly: false,
  jsonData: { allowGroupByAccountUser: true },
  meta: { id: 'scmon-scmon-datasource' } as never,
});
ds.getResource = (async (path: string) => ({ values: sample[path] ?? [] })) as typeof ds.getResource;

const range = { from: dateTime('2026-11-01T00:00:00Z'), to: dateTime('2026-12-01T00:00:00Z'), raw: { from: 'now-30d', to: 'now' } };

const queries: Record<string, ScmonQuery> = {
  figures: {
    refId: 'A',
    queryType: 'figures',
    resource: 'accelerator',
    every: 'day',
    groupBy: ['partition', 'model'],
    partitions: ['gpu', 'npu'],
    classes: ['ai_training', 'ai_inference'],
    models: ['h100', 'ascend910b'],
  },
  jobs: {
    refId: 'A',
    queryType: 'jobs',
    partitions: ['$partition'],
    classes: ['ai_training'],
    states: ['RUNNING'],
    columns: ['job_id', 'partition', 'account', 'start', 'accelerators', 'class', 'rules'],
    limit: 100,
  },
  table: { refId: 'A', queryType: 'table', groupBy: ['account'], resource: 'billing', orderBy: 'ai_share', limit: 10 },
};

const settings: DataSourceSettings<ScmonOptions, ScmonSecureOptions> = {
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
  isDefault: true,
  withCredentials: false,
  readOnly: false,
  jsonData: { url: 'https://scmon.example.org:9810', timeout: 30, basicAuthUser: 'grafana', tlsServerName: '' },
  secureJsonFields: { basicAuthPassword: true },
};

function Page() {
  const view = window.location.hash.replace('#', '') || 'figures';
  const [query, setQuery] = React.useState<ScmonQuery>(queries[view] ?? queries.figures);
  const [options, setOptions] = React.useState(settings);
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div
        className={css({
          background: theme.colors.background.primary,
          color: theme.colors.text.primary,
          fontFamily: theme.typography.fontFamily,
          fontSize: theme.typography.body.fontSize,
          padding: 16,
          minHeight: '100vh',
          boxSizing: 'border-box',
        })}
      >
        {view === 'config' ? (
          <ConfigEditor options={options} onOptionsChange={setOptions} />
        ) : (
          <QueryEditor datasource={ds} query={query} onChange={setQuery} onRunQuery={() => {}} range={range as never} />
        )}
      </div>
    </ThemeContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(<Page />);
