import { DataQuery, DataSourceJsonData } from '@grafana/schema';

/** The three kinds of question the data source answers. */
export type QueryType = 'figures' | 'table' | 'jobs';

/**
 * A list field holds template variables as well as values: each item may be
 * `$var`, which the data source replaces (multi-value variables as a
 * comma-separated list) before the query leaves the browser.
 */
export type ListField = string[];

/**
 * ScmonQuery is the query model the backend reads (pkg/plugin/query.go).
 * Every field is optional: the backend fills the defaults.
 */
export interface ScmonQuery extends DataQuery {
  queryType?: QueryType;

  // figures and table
  resource?: string;
  figures?: ListField;
  every?: string;
  groupBy?: ListField;
  timezone?: string;

  // table
  orderBy?: string;
  // table: desc (highest first, the default) or asc.
  order?: string;
  // table and jobs: a number, or a template variable.
  limit?: number | string;

  // filters: figures and jobs (kinds and models: figures only)
  clusters?: ListField;
  partitions?: ListField;
  accounts?: ListField;
  users?: ListField;
  classes?: ListField;
  kinds?: ListField;
  models?: ListField;
  states?: ListField;

  // jobs
  columns?: ListField;
}

/** The data source's jsonData, as pkg/plugin/settings.go reads it. */
export interface ScmonOptions extends DataSourceJsonData {
  url?: string;
  timeout?: number | string;
  basicAuthUser?: string;
  tlsSkipVerify?: boolean;
  tlsServerName?: string;
  /** Allows grouping (and filtering figures) by account and user. Off by default. */
  allowGroupByAccountUser?: boolean;
}

/** The data source's secureJsonData: written by the browser, never read back. */
export interface ScmonSecureOptions {
  basicAuthPassword?: string;
  tlsCACert?: string;
  tlsClientCert?: string;
  tlsClientKey?: string;
}

/** The lists the backend's resource handlers answer (CallResource). */
export type ResourceList = 'clusters' | 'partitions' | 'accounts' | 'users' | 'classes' | 'kinds' | 'models';

/** A dashboard variable's query: which list to fill the variable from. */
export interface ScmonVariableQuery extends DataQuery {
  list: ResourceList;
}

export const DEFAULT_QUERY: Partial<ScmonQuery> = {
  queryType: 'figures',
  every: 'auto',
};

/** Option lists of the editors; values are the backend's spellings. */
export const QUERY_TYPES: Array<{ label: string; value: QueryType; description: string }> = [
  { label: 'Figures', value: 'figures', description: 'Utilization and AI share over time' },
  { label: 'Table', value: 'table', description: 'The top groups of the range' },
  { label: 'Jobs', value: 'jobs', description: 'Job rows with their class and the rules that fired' },
];

export const RESOURCES = [
  { label: 'Primary (the center’s headline basis)', value: 'primary' },
  { label: 'CPU core-hours', value: 'cpu' },
  { label: 'Node-hours', value: 'nodes' },
  { label: 'Accelerator-hours', value: 'accelerator' },
  { label: 'Billing units', value: 'billing' },
];

export const FIGURES = [
  { label: 'Utilization', value: 'utilization' },
  { label: 'AI share', value: 'ai_share' },
  { label: 'AI share upper bound', value: 'ai_share_upper' },
  { label: 'Allocated hours', value: 'allocated_hours' },
  { label: 'Capacity hours', value: 'capacity_hours' },
];

export const STEPS = [
  { label: 'Hour', value: 'hour' },
  { label: 'Day', value: 'day' },
  { label: 'Week', value: 'week' },
  { label: 'Month', value: 'month' },
  { label: 'Whole range', value: 'total', description: 'One point per series: the figure of the whole range' },
];

export const GROUP_KEYS = [
  { label: 'Cluster', value: 'cluster' },
  { label: 'Partition', value: 'partition' },
  { label: 'Account', value: 'account' },
  { label: 'User', value: 'user' },
  { label: 'Class', value: 'class' },
  { label: 'Accelerator kind', value: 'kind' },
  { label: 'Accelerator model', value: 'model' },
];

/** Grouping keys that need allowGroupByAccountUser. */
export const PRIVATE_KEYS = ['account', 'user'];

export const ORDERS = [
  { label: 'Utilization', value: 'utilization' },
  { label: 'AI share', value: 'ai_share' },
  { label: 'AI share upper bound', value: 'ai_share_upper' },
  { label: 'Allocated hours', value: 'allocated_hours' },
];

export const CLASSES = [
  { label: 'AI training', value: 'ai_training' },
  { label: 'AI inference', value: 'ai_inference' },
  { label: 'Other', value: 'other' },
  { label: 'Unknown', value: 'unknown' },
];

export const JOB_STATES = [
  'PENDING',
  'RUNNING',
  'SUSPENDED',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'REQUEUED',
  'RESIZING',
  'UNKNOWN',
  'OTHER',
];

export const JOB_COLUMNS = [
  'job_id',
  'cluster',
  'partition',
  'account',
  'user',
  'name',
  'state',
  'start',
  'end',
  'nodes',
  'cores',
  'accelerators',
  'class',
  'rules',
];

/** The list fields of a query: each is interpolated item by item. */
export const LIST_FIELDS: Array<keyof ScmonQuery> = [
  'figures',
  'groupBy',
  'clusters',
  'partitions',
  'accounts',
  'users',
  'classes',
  'kinds',
  'models',
  'states',
  'columns',
];
