import { SelectableValue, TimeRange } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { InlineField, MultiSelect } from '@grafana/ui';
import React, { useEffect, useMemo, useState } from 'react';

import type { DataSource } from '../datasource';
import { ResourceList } from '../types';

/** LABEL_WIDTH lines the editors' labels up. */
export const LABEL_WIDTH = 16;

/** variableOptions offers the dashboard's variables in every picker. */
export function variableOptions(): Array<SelectableValue<string>> {
  return getTemplateSrv()
    .getVariables()
    .map((v) => ({ label: `$${v.name}`, value: `$${v.name}`, description: 'Dashboard variable' }));
}

/** toOptions turns plain values into picker options, keeping the order. */
export function toOptions(values: string[]): Array<SelectableValue<string>> {
  return values.map((v) => ({ label: v, value: v }));
}

/** withSelected adds the chosen values a list does not offer (a variable, a value outside the range). */
export function withSelected(options: Array<SelectableValue<string>>, selected: string[] = []) {
  const known = new Set(options.map((o) => o.value));
  return [...options, ...selected.filter((v) => !known.has(v)).map((v) => ({ label: v, value: v }))];
}

/**
 * useListValues asks the backend for one list's values over the panel's
 * range, once per list and range. A failure (scmon down, the list refused
 * by the settings) is shown in the picker, never thrown.
 */
export function useListValues(datasource: DataSource, list: ResourceList, range?: TimeRange) {
  const from = range?.from?.toISOString();
  const to = range?.to?.toISOString();
  const key = `${list}|${from}|${to}`;
  const [state, setState] = useState<{ key?: string; values: string[]; error?: string }>({ values: [] });
  useEffect(() => {
    let live = true;
    datasource
      .listValues(list, { from, to })
      .then((values) => live && setState({ key, values }))
      .catch((err: unknown) => live && setState({ key, values: [], error: errorText(err) }));
    return () => {
      live = false;
    };
  }, [datasource, list, from, to, key]);
  // Until the answer for this list and range arrives, the last one shows as loading.
  return { values: state.values, error: state.key === key ? state.error : undefined, loading: state.key !== key };
}

/** errorText is the message of a failed backend call as Grafana's fetch rejects it. */
export function errorText(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { data?: { message?: string; error?: string }; message?: string };
    return e.data?.message ?? e.data?.error ?? e.message ?? 'request failed';
  }
  return String(err);
}

interface ListPickerProps {
  label: string;
  tooltip?: string;
  id: string;
  datasource: DataSource;
  list: ResourceList;
  range?: TimeRange;
  value?: string[];
  onChange: (v: string[]) => void;
  /** fixed are the choices when the list is not asked of the backend (classes, states). */
  fixed?: Array<SelectableValue<string>>;
  disabled?: boolean;
}

/** ListPicker is a filter: any of the chosen values matches; none chosen does not filter. */
export function ListPicker(props: ListPickerProps) {
  return props.fixed ? <FixedPicker {...props} fixed={props.fixed} /> : <BackendPicker {...props} />;
}

function BackendPicker(props: ListPickerProps) {
  const { values, loading, error } = useListValues(props.datasource, props.list, props.range);
  const options = useMemo(() => [...toOptions(values), ...variableOptions()], [values]);
  return <Picker {...props} options={options} loading={loading} error={error} />;
}

function FixedPicker(props: ListPickerProps & { fixed: Array<SelectableValue<string>> }) {
  const options = useMemo(() => [...props.fixed, ...variableOptions()], [props.fixed]);
  return <Picker {...props} options={options} loading={false} />;
}

function Picker(
  props: ListPickerProps & { options: Array<SelectableValue<string>>; loading: boolean; error?: string }
) {
  return (
    <InlineField
      label={props.label}
      labelWidth={LABEL_WIDTH}
      tooltip={props.tooltip}
      invalid={Boolean(props.error)}
      error={props.error}
      disabled={props.disabled}
    >
      <MultiSelect
        inputId={props.id}
        aria-label={props.label}
        width={40}
        options={withSelected(props.options, props.value)}
        value={props.value ?? []}
        isLoading={props.loading}
        allowCustomValue
        placeholder="any"
        onChange={(sel: Array<SelectableValue<string>>) =>
          props.onChange(sel.map((s) => s.value).filter((v): v is string => Boolean(v)))
        }
      />
    </InlineField>
  );
}
