import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, MultiSelect, RadioButtonGroup, Select, Stack } from '@grafana/ui';
import React, { useMemo } from 'react';

import type { DataSource } from '../datasource';
import {
  CLASSES,
  FIGURES,
  GROUP_KEYS,
  JOB_COLUMNS,
  JOB_STATES,
  ORDERS,
  PRIVATE_KEYS,
  QUERY_TYPES,
  QueryType,
  RESOURCES,
  STEPS,
  ScmonOptions,
  ScmonQuery,
} from '../types';
import { LABEL_WIDTH, ListPicker, toOptions, variableOptions, withSelected } from './pickers';

export type Props = QueryEditorProps<DataSource, ScmonQuery, ScmonOptions>;

/**
 * QueryEditor edits one query: its type, then the fields of that type.
 * Every change is sent at once and runs the query; values typed into a
 * picker (a template variable, a value outside the range) are kept.
 */
export function QueryEditor(props: Props) {
  const { query, onChange, onRunQuery } = props;
  const type: QueryType = query.queryType ?? 'figures';
  const update = (patch: Partial<ScmonQuery>) => {
    onChange({ ...query, ...patch });
    onRunQuery();
  };
  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<QueryType>
            options={QUERY_TYPES}
            value={type}
            onChange={(v) => update({ queryType: v })}
          />
        </InlineField>
      </InlineFieldRow>
      {type === 'figures' && <FiguresFields {...props} update={update} />}
      {type === 'table' && <TableFields {...props} update={update} />}
      {type === 'jobs' && <JobsFields {...props} update={update} />}
    </Stack>
  );
}

type FieldsProps = Props & { update: (patch: Partial<ScmonQuery>) => void };

/** withVariables offers the dashboard's variables after the fixed choices. */
function withVariables(options: Array<SelectableValue<string>>) {
  return [...options, ...variableOptions()];
}

function ResourceField({ query, update }: FieldsProps) {
  const options = useMemo(() => withVariables(RESOURCES), []);
  return (
    <InlineField label="Resource basis" labelWidth={LABEL_WIDTH} tooltip="The resource utilization and AI share are stated in">
      <Select
        inputId="scmon-resource"
        aria-label="Resource basis"
        width={40}
        options={withSelected(options, query.resource ? [query.resource] : [])}
        value={query.resource ?? 'primary'}
        allowCustomValue
        onChange={(v) => update({ resource: v.value })}
      />
    </InlineField>
  );
}

function GroupByField({ query, update, datasource }: FieldsProps) {
  const options = useMemo(
    () =>
      withVariables(
        GROUP_KEYS.map((k) =>
          PRIVATE_KEYS.includes(k.value) && !datasource.allowGroupByAccountUser
            ? { ...k, isDisabled: true, description: 'Not allowed by the data source settings' }
            : k
        )
      ),
    [datasource.allowGroupByAccountUser]
  );
  return (
    <InlineField label="Group by" labelWidth={LABEL_WIDTH} tooltip="One series (or row) per group">
      <MultiSelect
        inputId="scmon-group-by"
        aria-label="Group by"
        width={40}
        options={withSelected(options, query.groupBy)}
        value={query.groupBy ?? []}
        allowCustomValue
        placeholder="no grouping"
        onChange={(sel: Array<SelectableValue<string>>) => update({ groupBy: values(sel) })}
      />
    </InlineField>
  );
}

function values(sel: Array<SelectableValue<string>>): string[] {
  return sel.map((s) => s.value).filter((v): v is string => Boolean(v));
}

function FiguresFields(props: FieldsProps) {
  const { query, update, datasource, range } = props;
  const every = query.every ?? 'auto';
  const auto = every === 'auto';
  const figureOptions = useMemo(() => withVariables(FIGURES), []);
  const stepOptions = useMemo(() => withVariables(STEPS), []);
  const hidePrivate = !datasource.allowGroupByAccountUser;
  return (
    <>
      <InlineFieldRow>
        <ResourceField {...props} />
        <InlineField label="Figures" labelWidth={LABEL_WIDTH} tooltip="Empty: utilization, AI share and its upper bound">
          <MultiSelect
            inputId="scmon-figures"
            aria-label="Figures"
            width={40}
            options={withSelected(figureOptions, query.figures)}
            value={query.figures ?? []}
            allowCustomValue
            placeholder="utilization, AI share, upper bound"
            onChange={(sel: Array<SelectableValue<string>>) => update({ figures: values(sel) })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField
          label="Step"
          labelWidth={LABEL_WIDTH}
          tooltip="Auto: the shortest calendar period that fits the panel's interval and points"
        >
          <RadioButtonGroup
            options={[
              { label: 'Auto', value: 'auto' },
              { label: 'Fixed', value: 'fixed' },
            ]}
            value={auto ? 'auto' : 'fixed'}
            onChange={(v) => update({ every: v === 'auto' ? 'auto' : 'day' })}
          />
        </InlineField>
        {!auto && (
          <InlineField label="Period" labelWidth={LABEL_WIDTH}>
            <Select
              inputId="scmon-every"
              aria-label="Period"
              width={24}
              options={withSelected(stepOptions, [every])}
              value={every}
              allowCustomValue
              onChange={(v) => update({ every: v.value })}
            />
          </InlineField>
        )}
        <InlineField label="Time zone" labelWidth={LABEL_WIDTH} tooltip="IANA zone of the calendar periods; empty: scmon's">
          <Input
            id="scmon-timezone"
            aria-label="Time zone"
            width={24}
            defaultValue={query.timezone ?? ''}
            placeholder="scmon's"
            onBlur={(e) => update({ timezone: e.currentTarget.value.trim() || undefined })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <GroupByField {...props} />
      </InlineFieldRow>
      <InlineFieldRow>
        <ListPicker
          label="Partition"
          id="scmon-partitions"
          list="partitions"
          datasource={datasource}
          range={range}
          value={query.partitions}
          onChange={(v) => update({ partitions: v })}
        />
        {!hidePrivate && (
          <ListPicker
            label="Account"
            id="scmon-accounts"
            list="accounts"
            datasource={datasource}
            range={range}
            value={query.accounts}
            onChange={(v) => update({ accounts: v })}
          />
        )}
      </InlineFieldRow>
      <InlineFieldRow>
        <ListPicker
          label="Class"
          id="scmon-classes"
          list="classes"
          fixed={CLASSES}
          datasource={datasource}
          range={range}
          value={query.classes}
          onChange={(v) => update({ classes: v })}
        />
        <ListPicker
          label="Accel. kind"
          id="scmon-kinds"
          list="kinds"
          datasource={datasource}
          range={range}
          value={query.kinds}
          onChange={(v) => update({ kinds: v })}
        />
        <ListPicker
          label="Accel. model"
          id="scmon-models"
          list="models"
          datasource={datasource}
          range={range}
          value={query.models}
          onChange={(v) => update({ models: v })}
        />
      </InlineFieldRow>
    </>
  );
}

function LimitField({ query, update, placeholder }: FieldsProps & { placeholder: string }) {
  return (
    <InlineField label="Limit" labelWidth={LABEL_WIDTH} tooltip="A number or a dashboard variable">
      <Input
        id="scmon-limit"
        aria-label="Limit"
        width={16}
        defaultValue={query.limit === undefined ? '' : String(query.limit)}
        placeholder={placeholder}
        onBlur={(e) => {
          const s = e.currentTarget.value.trim();
          update({ limit: s === '' ? undefined : /^\d+$/.test(s) ? Number(s) : s });
        }}
      />
    </InlineField>
  );
}

function TableFields(props: FieldsProps) {
  const { query, update } = props;
  const orderOptions = useMemo(() => withVariables(ORDERS), []);
  return (
    <>
      <InlineFieldRow>
        <GroupByField {...props} />
        <ResourceField {...props} />
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Metric" labelWidth={LABEL_WIDTH} tooltip="The figure the groups are ranked by">
          <Select
            inputId="scmon-order-by"
            aria-label="Metric"
            width={32}
            options={withSelected(orderOptions, query.orderBy ? [query.orderBy] : [])}
            value={query.orderBy ?? 'utilization'}
            allowCustomValue
            onChange={(v) => update({ orderBy: v.value })}
          />
        </InlineField>
        <InlineField label="Order" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup
            options={[
              { label: 'Highest first', value: 'desc' },
              { label: 'Lowest first', value: 'asc' },
            ]}
            value={query.order ?? 'desc'}
            onChange={(v) => update({ order: v })}
          />
        </InlineField>
        <LimitField {...props} placeholder="10" />
      </InlineFieldRow>
    </>
  );
}

function JobsFields(props: FieldsProps) {
  const { query, update, datasource, range } = props;
  const stateOptions = useMemo(() => toOptions(JOB_STATES), []);
  const columnOptions = useMemo(() => withVariables(toOptions(JOB_COLUMNS)), []);
  return (
    <>
      <InlineFieldRow>
        <ListPicker
          label="Cluster"
          id="scmon-clusters"
          list="clusters"
          datasource={datasource}
          range={range}
          value={query.clusters}
          onChange={(v) => update({ clusters: v })}
        />
        <ListPicker
          label="Partition"
          id="scmon-partitions"
          list="partitions"
          datasource={datasource}
          range={range}
          value={query.partitions}
          onChange={(v) => update({ partitions: v })}
        />
      </InlineFieldRow>
      <InlineFieldRow>
        <ListPicker
          label="Account"
          id="scmon-accounts"
          list="accounts"
          datasource={datasource}
          range={range}
          value={query.accounts}
          onChange={(v) => update({ accounts: v })}
        />
        <ListPicker
          label="Class"
          id="scmon-classes"
          list="classes"
          fixed={CLASSES}
          datasource={datasource}
          range={range}
          value={query.classes}
          onChange={(v) => update({ classes: v })}
        />
      </InlineFieldRow>
      <InlineFieldRow>
        <ListPicker
          label="State"
          id="scmon-states"
          list="classes"
          fixed={stateOptions}
          datasource={datasource}
          range={range}
          value={query.states}
          onChange={(v) => update({ states: v })}
        />
        <LimitField {...props} placeholder="100" />
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Columns" labelWidth={LABEL_WIDTH} tooltip="Empty: every column">
          <MultiSelect
            inputId="scmon-columns"
            aria-label="Columns"
            width={80}
            options={withSelected(columnOptions, query.columns)}
            value={query.columns ?? []}
            allowCustomValue
            placeholder="all columns"
            onChange={(sel: Array<SelectableValue<string>>) => update({ columns: values(sel) })}
          />
        </InlineField>
      </InlineFieldRow>
    </>
  );
}
