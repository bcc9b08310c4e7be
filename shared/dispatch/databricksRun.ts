import type { Run } from '../databricks/schemas';
import type { RunState } from '../runs/runStore';

/** A Databricks run that will not change any more. */
export function isTerminal(run: Run): boolean {
  return ['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'].includes(run.state?.life_cycle_state ?? '');
}

/** The Orbiter state of a terminal Databricks run. */
export function finalState(run: Run): RunState {
  const lc = run.state?.life_cycle_state;
  const rs = run.state?.result_state;
  if (lc === 'SKIPPED') return 'skipped';
  if (rs === 'SUCCESS') return 'succeeded';
  if (rs === 'CANCELED') return 'cancelled';
  return 'failed';
}
