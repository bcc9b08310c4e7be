/** Small statistics and result types shared by the benchmarks. */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile over an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? NaN,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? NaN,
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN,
  };
}

/** One figure compared with its goal: `ratio` is value / goal, met when value is on the goal's side. */
export interface GoalCheck {
  metric: string;
  value: number;
  unit: string;
  goal: number;
  /** '<=' the value must not exceed the goal; '>=' it must reach it. */
  op: '<=' | '>=';
  ratio: number;
  met: boolean;
}

export function check(metric: string, value: number, op: '<=' | '>=', goal: number, unit: string): GoalCheck {
  const met = op === '<=' ? value <= goal : value >= goal;
  return { metric, value, unit, goal, op, ratio: goal === 0 ? (value === 0 ? 1 : Infinity) : value / goal, met };
}

export interface BenchResult {
  name: string;
  /** Every figure measured, for the JSON file. */
  figures: Record<string, unknown>;
  goals: GoalCheck[];
  /** What shapes the figure (windows, poll schedule, load). */
  notes: string[];
  durationMs: number;
}

export interface BenchContext {
  repoRoot: string;
  quick: boolean;
  /** --files N overrides a benchmark's default file / request count. */
  files?: number;
  log(msg: string): void;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value (never a fixed sleep as synchronisation). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const round = (x: number, digits = 1): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
