import {
  CoreApp,
  CustomVariableSupport,
  DataFrame,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  FieldType,
  ScopedVars,
  createDataFrame,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';
import { Observable, from } from 'rxjs';
import { map } from 'rxjs/operators';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import {
  DEFAULT_QUERY,
  LIST_FIELDS,
  ResourceList,
  ScmonOptions,
  ScmonQuery,
  ScmonVariableQuery,
} from './types';

/** The time range the value lists are taken from, as the backend reads it. */
export interface ListRange {
  from?: string;
  to?: string;
}

/**
 * DataSource is the browser half of the scmon data source: queries go to
 * the Go backend (QueryData), which asks `scmon serve`. It replaces
 * dashboard variables in every field and asks the backend's resource
 * handlers for the values the editors' pickers offer.
 */
export class DataSource extends DataSourceWithBackend<ScmonQuery, ScmonOptions> {
  /** Whether the settings allow grouping by account and user (the backend enforces it). */
  readonly allowGroupByAccountUser: boolean;

  constructor(instanceSettings: DataSourceInstanceSettings<ScmonOptions>) {
    super(instanceSettings);
    this.allowGroupByAccountUser = Boolean(instanceSettings.jsonData?.allowGroupByAccountUser);
    this.variables = new ScmonVariableSupport(this);
  }

  getDefaultQuery(_: CoreApp): Partial<ScmonQuery> {
    return DEFAULT_QUERY;
  }

  /**
   * applyTemplateVariables replaces dashboard variables in every string
   * field. A list item that is a multi-value variable becomes a
   * comma-separated string, which the backend splits; the limit becomes a
   * number when the variable held one.
   */
  applyTemplateVariables(query: ScmonQuery, scopedVars: ScopedVars): ScmonQuery {
    const srv = getTemplateSrv();
    const out: ScmonQuery = { ...query };
    for (const key of ['resource', 'every', 'timezone', 'orderBy', 'queryType'] as const) {
      const v = query[key];
      if (typeof v === 'string' && v !== '') {
        (out as unknown as Record<string, unknown>)[key] = srv.replace(v, scopedVars);
      }
    }
    for (const key of LIST_FIELDS) {
      const v = query[key];
      if (Array.isArray(v)) {
        (out as unknown as Record<string, unknown>)[key] = v
          .map((item) => srv.replace(String(item), scopedVars, 'csv'))
          .filter((item) => item !== '');
      } else if (typeof v === 'string') {
        (out as unknown as Record<string, unknown>)[key] = srv.replace(v, scopedVars, 'csv');
      }
    }
    if (typeof query.limit === 'string') {
      const s = srv.replace(query.limit, scopedVars).trim();
      out.limit = /^\d+$/.test(s) ? Number(s) : s;
    }
    return out;
  }

  /** filterQuery leaves hidden queries out. */
  filterQuery(query: ScmonQuery): boolean {
    return !query.hide;
  }

  /**
   * listValues asks the backend for the values of one list (partitions,
   * accounts, ...) over the range, with dashboard variables replaced in
   * the range's bounds.
   */
  async listValues(list: ResourceList, range?: ListRange): Promise<string[]> {
    const params: Record<string, string> = {};
    if (range?.from) {
      params.from = range.from;
    }
    if (range?.to) {
      params.to = range.to;
    }
    const res = await this.getResource<{ values: string[] }>(list, params);
    return res?.values ?? [];
  }
}

/**
 * ScmonVariableSupport fills a dashboard variable from one of the
 * backend's lists over the dashboard's range.
 */
export class ScmonVariableSupport extends CustomVariableSupport<DataSource, ScmonVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly ds: DataSource) {
    super();
  }

  query(request: DataQueryRequest<ScmonVariableQuery>): Observable<DataQueryResponse> {
    const q = request.targets[0];
    const range = request.range
      ? { from: request.range.from.toISOString(), to: request.range.to.toISOString() }
      : undefined;
    return from(this.ds.listValues(q?.list ?? 'partitions', range)).pipe(
      map((values) => ({ data: [valuesFrame(values)] }))
    );
  }
}

/** valuesFrame is a variable's values as the frame Grafana reads them from. */
export function valuesFrame(values: string[]): DataFrame {
  return createDataFrame({
    fields: [
      { name: 'text', type: FieldType.string, values },
      { name: 'value', type: FieldType.string, values },
    ],
  });
}
