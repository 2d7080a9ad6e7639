import { QueryEditorProps } from '@grafana/data';
import { InlineField, Select } from '@grafana/ui';
import React from 'react';

import type { DataSource } from '../datasource';
import { ResourceList, ScmonOptions, ScmonQuery, ScmonVariableQuery } from '../types';

const LISTS: Array<{ label: string; value: ResourceList }> = [
  { label: 'Clusters', value: 'clusters' },
  { label: 'Partitions', value: 'partitions' },
  { label: 'Accounts', value: 'accounts' },
  { label: 'Users', value: 'users' },
  { label: 'Classes', value: 'classes' },
  { label: 'Accelerator kinds', value: 'kinds' },
  { label: 'Accelerator models', value: 'models' },
];

export type Props = QueryEditorProps<DataSource, ScmonQuery, ScmonOptions, ScmonVariableQuery>;

/** VariableQueryEditor chooses the list a dashboard variable takes its values from. */
export function VariableQueryEditor({ query, onChange }: Props) {
  return (
    <InlineField label="Values of" labelWidth={16} tooltip="Taken from scmon over the dashboard's time range">
      <Select
        inputId="scmon-variable-list"
        aria-label="Values of"
        width={32}
        options={LISTS}
        value={query.list ?? 'partitions'}
        onChange={(v) => onChange({ ...query, list: v.value ?? 'partitions' })}
      />
    </InlineField>
  );
}
