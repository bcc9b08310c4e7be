import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';

/** One line the driver (runner/cluster_driver.py) writes on its protocol channel. */
const DriverEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('ready'), spark_context_id: z.string().min(1), pid: z.int() }),
  z.object({ event: z.literal('pong'), id: z.int(), healthy: z.boolean() }),
  // A gateway for one task: its port and secret, or why the driver could not open one.
  z
    .object({
      event: z.literal('opened'),
      id: z.int(),
      gateway_port: z.int().min(1).max(65535).optional(),
      gateway_secret: z.string().min(1).optional(),
      error: z.string().optional(),
    })
    .refine((e) => e.error !== undefined || (e.gateway_port !== undefined && e.gateway_secret !== undefined), {
      message: 'an opened gateway needs gateway_port and gateway_secret, or an error',
    }),
]);
type DriverEvent = z.infer<typeof DriverEventSchema>;
type ReadyEvent = Extract<DriverEvent, { event: 'ready' }>;
/** An answer to a request that carried an id (ping, open). */
type ReplyEvent = Exclude<DriverEvent, ReadyEvent>;

/**
 * What one task process needs to attach to the driver's JVM: a gateway server of its own (secret: only ever passed in
 * that child's environment). close() when the task has ended: it drops every JVM object the task referenced.
 */
export interface TaskGateway {
  port: number;
  secret: string;
  close(): void;
}

export interface DriverLaunch {
  python: string;
  script: string;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Names the driver in messages. */
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
 * The running Spark driver (runner/cluster_driver.py): a Python process owning the JVM and its SparkContext, which
 * notebook task processes attach to, each through a gateway server of its own. It runs in its own process group, so
 * killing it also ends the JVM. Its stdin takes open/close/cancel/ping/stop requests; its stdout answers.
 */
export class DriverProcess {
  readonly sparkContextId: string;
  readonly pid: number;
  private nextId = 1;
  /** Requests waiting for the driver's answer, by id; answered with undefined if the driver exits first. */
  private readonly replies = new Map<number, (event: ReplyEvent | undefined) => void>();
  private exited: string | undefined;
  private retired = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly launch: DriverLaunch,
    ready: ReadyEvent,
    events: AsyncIterable<DriverEvent>,
  ) {
    this.sparkContextId = ready.spark_context_id;
    this.pid = ready.pid;
    void this.pump(events);
    child.once('exit', (code, signal) => {
      this.exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      for (const answer of this.replies.values()) answer(undefined);
      this.replies.clear();
    });
  }

  /** Why it is not alive (undefined while it is). */
  get endReason(): string | undefined {
    return this.exited ?? (this.retired ? 'was retired' : undefined);
  }

  /** Starts a driver and resolves once its SparkSession is up; rejects (with the log's tail) if it dies first. */
  static async start(launch: DriverLaunch, signal?: AbortSignal): Promise<DriverProcess> {
    const log = openSync(launch.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(launch.python, [launch.script, '--master', launch.master], {
        cwd: launch.cwd,
        env: { ...process.env, ...launch.env, SPARK_LOCAL_IP: '127.0.0.1', PYTHONUNBUFFERED: '1' },
        stdio: ['pipe', 'pipe', log],
        detached: true,
      });
    } finally {
      closeSync(log);
    }
    child.stdin?.on('error', () => undefined); // EPIPE from a driver that died: its exit handler reports it
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
        throw new DriverGoneError(`the Spark driver of cluster ${launch.clusterId} did not report ready: ${tail(launch.logPath)}`);
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

  /** Cancels the Spark jobs of one task's job group (its process was killed or crashed mid-job). */
  cancel(group: string): void {
    this.write({ op: 'cancel', group });
  }

  /** A gateway server for one task's process; rejects with DriverGoneError when the driver is gone or cannot open one. */
  async openGateway(): Promise<TaskGateway> {
    const { id, reply } = this.ask('open');
    const event = await reply;
    if (event?.event !== 'opened') throw new DriverGoneError(`the Spark driver ${this.endReason ?? 'is gone'}`);
    if (event.error !== undefined || event.gateway_port === undefined || event.gateway_secret === undefined)
      throw new DriverGoneError(`the Spark driver could not open a gateway for the task: ${event.error ?? 'no port given'}`);
    return { port: event.gateway_port, secret: event.gateway_secret, close: () => this.write({ op: 'close', id }) };
  }

  /** Whether Spark still answers (false once the driver is gone); a driver that does not answer exits by itself. */
  async ping(): Promise<boolean> {
    const event = await this.ask('ping').reply;
    return event?.event === 'pong' && event.healthy;
  }

  /** Sends a request the driver answers under the same id (undefined: it exited first, or had already). */
  private ask(op: 'open' | 'ping'): { id: number; reply: Promise<ReplyEvent | undefined> } {
    const id = this.nextId++;
    if (this.exited !== undefined) return { id, reply: Promise.resolve(undefined) };
    const reply = new Promise<ReplyEvent | undefined>((resolve) => this.replies.set(id, resolve));
    this.write({ op, id });
    return { id, reply };
  }

  private write(request: Record<string, unknown>): void {
    if (this.exited !== undefined) return;
    try {
      this.child.stdin!.write(`${JSON.stringify(request)}\n`);
    } catch {
      /* exiting: the exit handler answers pending requests */
    }
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
        if (event.event === 'ready') continue;
        this.replies.get(event.id)?.(event);
        this.replies.delete(event.id);
      }
    } catch {
      this.kill(); // a driver that speaks nonsense is not trusted with the next task
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
