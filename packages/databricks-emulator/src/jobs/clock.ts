/** Time for the scheduler: the real one, or a manual one tests advance (so no test sleeps). */
export interface Clock {
  now(): number;
  /** Calls `fn` once at `at` (epoch ms) or as soon as possible after it. */
  at(at: number, fn: () => void): { cancel(): void };
}

/** Longest single setTimeout (2^31-1 ms); later deadlines re-arm. */
const MAX_DELAY = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  at(at, fn) {
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const delay = at - Date.now();
      timer = delay > MAX_DELAY ? setTimeout(arm, MAX_DELAY) : setTimeout(fn, Math.max(0, delay));
      timer.unref();
    };
    arm();
    return { cancel: () => clearTimeout(timer) };
  },
};

/** A clock that only moves when told to; due callbacks run in time order during advance(). */
export class ManualClock implements Clock {
  private timers: { at: number; fn: () => void; seq: number }[] = [];
  private seq = 0;
  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  at(at: number, fn: () => void): { cancel(): void } {
    const timer = { at, fn, seq: this.seq++ };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  /** Moves time forward to `now() + ms`, running each callback that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
  }

  /** The earliest pending deadline (tests: "is something armed?"). */
  next(): number | undefined {
    return this.timers.length === 0 ? undefined : Math.min(...this.timers.map((t) => t.at));
  }
}
