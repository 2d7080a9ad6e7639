import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React, { useState } from 'react';

import { QueryEditor } from '../components/QueryEditor';
import { DataSource } from '../datasource';
import { ScmonQuery } from '../types';
import { installTemplateSrv, lists, newDataSource, range } from './testenv';

beforeAll(installTemplateSrv);

/**
 * Editor renders the query editor as a panel holds it: the query lives in
 * the panel's state, and every model the editor emits is recorded.
 */
function Editor({ ds, initial, emitted }: { ds: DataSource; initial: ScmonQuery; emitted: ScmonQuery[] }) {
  const [query, setQuery] = useState(initial);
  return (
    <QueryEditor
      datasource={ds}
      query={query}
      range={range as never}
      onRunQuery={() => {}}
      onChange={(q) => {
        emitted.push(q);
        setQuery(q);
      }}
    />
  );
}

function setup(initial: ScmonQuery = { refId: 'A' }, jsonData = {}) {
  const { ds, calls } = newDataSource(jsonData);
  const emitted: ScmonQuery[] = [];
  const user = userEvent.setup({ delay: null });
  render(<Editor ds={ds} initial={initial} emitted={emitted} />);
  const last = () => emitted[emitted.length - 1];
  return { ds, calls, emitted, user, last };
}

/** pick opens the select labelled label and chooses the option text. */
async function pick(user: ReturnType<typeof userEvent.setup>, label: string, text: string) {
  await user.click(screen.getByLabelText(label));
  const menu = await screen.findByLabelText('Select options menu');
  await user.click(within(menu).getByText(text));
}

describe('QueryEditor', () => {
  it('starts as a figures query and switches to table and jobs', async () => {
    const { user, last } = setup();
    expect(screen.getByLabelText('Resource basis')).toBeInTheDocument();
    expect(screen.queryByLabelText('Metric')).not.toBeInTheDocument();

    await user.click(screen.getByLabelText('Table'));
    expect(last().queryType).toBe('table');
    expect(screen.getByLabelText('Metric')).toBeInTheDocument();
    expect(screen.queryByText('Step')).not.toBeInTheDocument();

    await user.click(screen.getByLabelText('Jobs'));
    expect(last().queryType).toBe('jobs');
    expect(screen.getByLabelText('Columns')).toBeInTheDocument();
  });

  it('emits the group-by keys picked, in order', async () => {
    const { user, last } = setup();
    await pick(user, 'Group by', 'Partition');
    expect(last().groupBy).toEqual(['partition']);
    await pick(user, 'Group by', 'Accelerator model');
    expect(last()).toMatchObject({ refId: 'A', groupBy: ['partition', 'model'] });
  });

  it('offers account and user only when the settings allow them', async () => {
    const off = setup();
    await off.user.click(screen.getByLabelText('Group by'));
    let menu = await screen.findByLabelText('Select options menu');
    await off.user.click(within(menu).getByText('Account'));
    expect(off.emitted).toHaveLength(0);
    expect(screen.queryByLabelText('Account')).not.toBeInTheDocument();
    cleanup();

    const on = setup({ refId: 'A' }, { allowGroupByAccountUser: true });
    await on.user.click(screen.getByLabelText('Group by'));
    menu = await screen.findByLabelText('Select options menu');
    await on.user.click(within(menu).getByText('Account'));
    expect(on.last().groupBy).toEqual(['account']);
  });

  it('fills the filter pickers from the backend over the panel range', async () => {
    const { user, calls, last } = setup();
    await waitFor(() => expect(calls.map((c) => c.path).sort()).toEqual(['kinds', 'models', 'partitions']));
    expect(calls[0].params).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z' });

    await pick(user, 'Partition', lists.partitions[1]);
    expect(last().partitions).toEqual(['gpu']);
    await pick(user, 'Accel. model', 'h100');
    expect(last().models).toEqual(['h100']);
    // Dashboard variables are offered next to the values.
    await pick(user, 'Partition', '$partition');
    expect(last().partitions).toEqual(['gpu', '$partition']);
  });

  it('switches the step between auto and a fixed period', async () => {
    const { user, last } = setup();
    expect(screen.queryByLabelText('Period')).not.toBeInTheDocument();
    await user.click(screen.getByLabelText('Fixed'));
    expect(last().every).toBe('day');
    await pick(user, 'Period', 'Week');
    expect(last().every).toBe('week');
    await user.click(screen.getByLabelText('Auto'));
    expect(last().every).toBe('auto');
  });

  it('edits a table query: metric, order and a variable as limit', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'table', groupBy: ['partition'] });
    await pick(user, 'Metric', 'AI share');
    expect(last().orderBy).toBe('ai_share');
    await user.click(screen.getByLabelText('Lowest first'));
    expect(last().order).toBe('asc');
    await user.type(screen.getByLabelText('Limit'), '$limit');
    await user.tab();
    expect(last()).toMatchObject({ queryType: 'table', groupBy: ['partition'], orderBy: 'ai_share', order: 'asc', limit: '$limit' });
  });

  it('edits a jobs query: filters, columns and limit', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'jobs' });
    await pick(user, 'Class', 'AI training');
    await pick(user, 'State', 'RUNNING');
    await pick(user, 'Columns', 'job_id');
    await pick(user, 'Columns', 'class');
    await user.type(screen.getByLabelText('Limit'), '50');
    await user.tab();
    expect(last()).toMatchObject({
      queryType: 'jobs',
      classes: ['ai_training'],
      states: ['RUNNING'],
      columns: ['job_id', 'class'],
      limit: 50,
    });
  });
});
