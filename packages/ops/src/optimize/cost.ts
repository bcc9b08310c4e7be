import { OrbiterError } from 'orbiter/shared/errors';
import type { ClusterSpec, RunMetrics } from './metrics';
import type { CostRates } from './rates';

/** DBUs and money of one run, from the rate table: an estimate, never a measured spend. */
export interface RunCost {
  /** Autoscale clusters: priced at min_workers (low) and max_workers (high); observed workers when known. */
  dbuLow: number;
  dbuHigh: number;
  costLow: number;
  costHigh: number;
  basis: ClusterSpec['basis'];
}

/** The cluster a local emulator run is priced as (rates.local): it reports no cluster of its own. */
export function localCluster(rates: CostRates): ClusterSpec {
  return {
    basis: 'local',
    nodeType: rates.local.nodeType,
    driverNodeType: rates.local.nodeType,
    minWorkers: rates.local.workers,
    maxWorkers: rates.local.workers,
    spot: false,
    firstOnDemand: 1,
    computeKind: rates.local.computeKind,
  };
}

function node(rates: CostRates, type: string): CostRates['nodeTypes'][string] {
  const n = rates.nodeTypes[type];
  if (!n) throw new OrbiterError('ConfigInvalid', `node type ${type} has no rate in the cost rates (nodeTypes); add it to config/cost-rates.json`);
  return n;
}

function priceAt(rates: CostRates, c: ClusterSpec, workers: number, hours: number): { dbu: number; cost: number } {
  const kind = rates.computeKinds[c.computeKind];
  if (!kind) throw new OrbiterError('ConfigInvalid', `compute kind ${c.computeKind} has no rate in the cost rates (computeKinds)`);
  const driver = node(rates, c.driverNodeType);
  const worker = node(rates, c.nodeType);
  const mult = kind.dbuMultiplier ?? 1;
  const dbu = (driver.dbuPerHour + workers * worker.dbuPerHour) * mult * hours;
  // first_on_demand counts the driver first; the remaining on-demand slots go to workers.
  const onDemandWorkers = c.spot ? Math.min(workers, Math.max(0, c.firstOnDemand - 1)) : workers;
  const spotWorkers = workers - onDemandWorkers;
  const vm = driver.vmPricePerHour + onDemandWorkers * worker.vmPricePerHour + spotWorkers * worker.vmPricePerHour * (1 - rates.spot.vmDiscount);
  return { dbu, cost: dbu * kind.dbuPrice + vm * hours };
}

export function runCost(run: RunMetrics, rates: CostRates): RunCost {
  const c = run.cluster ?? localCluster(rates);
  const hours = run.durationMs / 3_600_000;
  const low = priceAt(rates, c, c.observedMaxWorkers ?? c.minWorkers, hours);
  const high = priceAt(rates, c, c.observedMaxWorkers ?? c.maxWorkers, hours);
  return { dbuLow: low.dbu, dbuHigh: high.dbu, costLow: low.cost, costHigh: high.cost, basis: c.basis };
}
