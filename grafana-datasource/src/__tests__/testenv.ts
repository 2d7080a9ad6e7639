// A dashboard's template service for the tests: $name is replaced with a
// variable's value, multi-value variables joined as Grafana's csv format
// does. It stands in for the dashboard that no test renders.
import { ScopedVars, TypedVariableModel, dateTime } from '@grafana/data';
import { TemplateSrv, setTemplateSrv } from '@grafana/runtime';

import { DataSource } from '../datasource';
import { ResourceList, ScmonOptions } from '../types';

export const variables: Record<string, string | string[]> = {
  partition: ['gpu', 'npu'],
  limit: '25',
  basis: 'billing',
};

export function installTemplateSrv() {
  const srv = {
    getVariables: () => Object.keys(variables).map((name) => ({ name }) as unknown as TypedVariableModel),
    replace: (target?: string, _scoped?: ScopedVars, format?: string | Function) =>
      (target ?? '').replace(/\$(\w+)/g, (m, name: string) => {
        const v = variables[name];
        if (v === undefined) {
          return m;
        }
        return Array.isArray(v) ? (format === 'csv' ? v.join(',') : `{${v.join(',')}}`) : v;
      }),
    containsTemplate: (t?: string) => Boolean(t && t.includes('$')),
    updateTimeRange: () => {},
  } as unknown as TemplateSrv;
  setTemplateSrv(srv);
}

/** The values the backend lists in these tests, as a sample center has them. */
export const lists: Record<string, string[]> = {
  partitions: ['cpu', 'gpu', 'npu', 'viz'],
  accounts: ['astro', 'climate', 'llm'],
  kinds: ['gpu', 'npu'],
  models: ['a100', 'h100', 'ascend910b'],
  clusters: ['alpha'],
};

export const range = {
  from: dateTime('2026-11-01T00:00:00Z'),
  to: dateTime('2026-11-08T00:00:00Z'),
  raw: { from: 'now-7d', to: 'now' },
};

/**
 * newDataSource is the real DataSource with its resource calls answered
 * from lists: no Grafana server runs under Jest. It records each call.
 */
export function newDataSource(jsonData: ScmonOptions = {}) {
  const ds = new DataSource({
    id: 1,
    uid: 'scmon',
    type: 'scmon-scmon-datasource',
    name: 'scmon',
    jsonData,
    access: 'proxy',
    readOnly: false,
    meta: { id: 'scmon-scmon-datasource' } as never,
  });
  const calls: Array<{ path: string; params: unknown }> = [];
  ds.getResource = (async (path: string, params?: unknown) => {
    calls.push({ path, params });
    return { values: lists[path as ResourceList] ?? [] };
  }) as typeof ds.getResource;
  return { ds, calls };
}
