import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';

/** One line the driver (runner/cluster_driver.py) writes on its protocol channel. */
const DriverEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('ready'), spark_context_id: z.string().min(1), pid: z.int() }),
  z.object({ event: z.literal('done'), id: z.int(), healthy: z.boolean() }),
]);
type DriverEvent = z.infer<typeof DriverEventSchema>;

export interface DriverTask {
  notebook: string;
  params: Record<string, string>;
  result: string;
  log: string;
  env: Record<string, string>;
}

export interface DriverLaunch {
  python: string;
  script: string;
  cwd: string;
  env: Record<string, string | undefined>;
  clusterId: string;
  /** Spark master, e.g. local[2]. */
  master: string;
  /** The driver's own log (Spark start-up, JVM output). */
  logPath: string;
  /** SIGTERM → SIGKILL grace when stopping (default 5 s). */
  killGraceMs?: number;
}

/** Why a task did not get a reply from the driver. */
export class DriverGoneError extends Error {
  override readonly name = 'DriverGoneError';
}

/**
 * A running cluster driver: a Python process owning one SparkSession, fed one notebook task at a time over its
 * stdin, replying on its stdout. It runs in its own process group, so killing it also ends the Spark JVM.
 */
export class DriverProcess {
  readonly sparkContextId: string;
  readonly pid: number;
  private nextId = 1;
  private pending: { id: number; resolve: (healthy: boolean) => void; reject: (err: Error) => void } | undefined;
  private exited: string | undefined;
  private retired = false;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly child: ChildProcess,
    private readonly launch: DriverLaunch,
    ready: { spark_context_id: string; pid: number },
    events: AsyncIterable<DriverEvent>,
  ) {
    this.sparkContextId = ready.spark_context_id;
    this.pid = ready.pid;
    void this.pump(events);
    child.once('exit', (code, signal) => {
      this.exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.pending?.reject(new DriverGoneError(`the Spark driver of cluster ${launch.clusterId} ${this.exited} during the task`));
      this.pending = undefined;
    });
  }

  /** Starts a driver and resolves once its SparkSession is up; rejects (with the log's tail) if it dies first. */
  static async start(launch: DriverLaunch, signal?: AbortSignal): Promise<DriverProcess> {
    const log = openSync(launch.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(launch.python, [launch.script, '--cluster-id', launch.clusterId, '--master', launch.master], {
        cwd: launch.cwd,
        env: { ...process.env, ...launch.env, SPARK_LOCAL_IP: '127.0.0.1', PYTHONUNBUFFERED: '1' },
        stdio: ['pipe', 'pipe', log],
        detached: true,
      });
    } finally {
      closeSync(log);
    }
    const lines = createInterface({ input: child.stdout! });
    const events = parseEvents(lines);
    const iterator = events[Symbol.asyncIterator]();
    const abandon = (): void => killGroup(child, 'SIGKILL');
    signal?.addEventListener('abort', abandon, { once: true });
    try {
      const first = await Promise.race([
        iterator.next(),
        new Promise<never>((_, reject) => {
          child.once('error', reject);
          child.once('exit', (code, sig) =>
            reject(
              new DriverGoneError(`the Spark driver of cluster ${launch.clusterId} exited (${sig ?? code}) while starting: ${tail(launch.logPath)}`),
            ),
          );
        }),
      ]);
      if (first.done || first.value.event !== 'ready')
        throw new DriverGoneError(`the Spark driver of cluster ${launch.clusterId} did not report ready`);
      return new DriverProcess(child, launch, first.value, { [Symbol.asyncIterator]: () => iterator });
    } catch (err) {
      killGroup(child, 'SIGKILL');
      throw err;
    } finally {
      signal?.removeEventListener('abort', abandon);
    }
  }

  /** False once it exited, was killed, or was retired (Spark stopped answering): the next task needs a new one. */
  get alive(): boolean {
    return this.exited === undefined && !this.retired;
  }

  retire(): void {
    this.retired = true;
  }

  /** Runs one task (tasks queue: the driver runs one at a time). Resolves with whether Spark still answers. */
  run(task: DriverTask): Promise<boolean> {
    const next = this.queue.then(() => this.send(task));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private send(task: DriverTask): Promise<boolean> {
    if (!this.alive)
      return Promise.reject(new DriverGoneError(`the Spark driver of cluster ${this.launch.clusterId} ${this.exited ?? 'was retired'}`));
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      this.child.stdin!.write(`${JSON.stringify({ op: 'run', id, ...task })}\n`);
    });
  }

  /** Ends the driver: a polite stop first, then the process group is killed after the grace period. */
  async stop(): Promise<void> {
    this.retired = true;
    if (this.exited !== undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.stdin!.end(`${JSON.stringify({ op: 'stop' })}\n`);
    } catch {
      /* stdin already closed */
    }
    const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), this.launch.killGraceMs ?? 5000);
    timer.unref();
    await gone;
    clearTimeout(timer);
    killGroup(this.child, 'SIGKILL'); // a JVM left behind by a driver that exited
  }

  /** Kills the driver and its JVM at once (cancelled or timed-out task: the notebook cannot be interrupted safely). */
  kill(): void {
    this.retired = true;
    killGroup(this.child, 'SIGKILL');
  }

  private async pump(events: AsyncIterable<DriverEvent>): Promise<void> {
    try {
      for await (const event of events) {
        if (event.event === 'done' && this.pending?.id === event.id) {
          const p = this.pending;
          this.pending = undefined;
          p.resolve(event.healthy);
        }
      }
    } catch (err) {
      this.pending?.reject(err as Error);
      this.pending = undefined;
      this.kill();
    }
  }
}

async function* parseEvents(lines: AsyncIterable<string>): AsyncGenerator<DriverEvent> {
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const parsed = DriverEventSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`cluster driver sent an invalid message: ${line.slice(0, 200)}`);
    yield parsed.data;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-5).join(' | ').slice(-800);
  } catch {
    return '(no driver log)';
  }
}
