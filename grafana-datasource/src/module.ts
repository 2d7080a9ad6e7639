import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { ScmonOptions, ScmonQuery, ScmonSecureOptions } from './types';

/** plugin is what Grafana loads from dist/module.js. */
export const plugin = new DataSourcePlugin<DataSource, ScmonQuery, ScmonOptions, ScmonSecureOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
