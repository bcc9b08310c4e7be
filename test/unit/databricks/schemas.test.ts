import { isTerminalLifeCycleState, ListRunsResponseSchema, RunOutputSchema, RunSchema } from '../../../shared/databricks/schemas';

describe('Jobs API response schemas', () => {
  it('accepts states Databricks may add later, keeping their text', () => {
    const run = RunSchema.parse({
      run_id: 5,
      state: { life_cycle_state: 'HIBERNATING', result_state: 'PARTIALLY_DONE', state_message: '' },
      status: { state: 'SLEEPING', termination_details: { code: 'QUANTUM_FLUX', type: 'COSMIC_RAY', message: 'x' } },
      tasks: [{ run_id: 6, task_key: 'a', state: { life_cycle_state: 'BLOCKED' } }],
      trigger: 'NEW_TRIGGER',
      run_type: 'SOMETHING_NEW',
    });
    expect(run.state?.life_cycle_state).toBe('HIBERNATING');
    expect(run.status?.termination_details?.type).toBe('COSMIC_RAY');
    expect(isTerminalLifeCycleState(run.state?.life_cycle_state)).toBe(false);
    expect(isTerminalLifeCycleState('TERMINATED')).toBe(true);
    expect(isTerminalLifeCycleState('INTERNAL_ERROR')).toBe(true);
    expect(isTerminalLifeCycleState('SKIPPED')).toBe(true);
  });

  it('drops unknown fields and defaults empty lists (Databricks omits `runs` when there are none)', () => {
    const parsed = ListRunsResponseSchema.parse({ has_more: false, brand_new: 1 });
    expect(parsed).toEqual({ runs: [], has_more: false });
    expect(RunSchema.parse({ run_id: 1, extra: { deep: true } })).toEqual({ run_id: 1 });
  });

  it('still rejects wrong types for the fields we rely on', () => {
    expect(RunSchema.safeParse({ run_id: '1' }).success).toBe(false);
    expect(RunSchema.safeParse({ run_id: 1, state: { life_cycle_state: 7 } }).success).toBe(false);
    expect(RunOutputSchema.safeParse({ notebook_output: { result: 3 } }).success).toBe(false);
  });
});
