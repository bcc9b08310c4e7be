import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * A Node program of ours in its own process, so that it can be SIGKILLed like a crashed worker and started again
 * with the same arguments. Output goes to a log file (kept in the scenario's temp folder for post-mortems); the
 * program announces readiness with one stdout line matching `ready`.
 */
export class ChildService {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private readonly log: WriteStream;
  /** What the ready line captured (e.g. the URL or connection string). */
  readyValue = '';
  starts = 0;
  kills = 0;

  constructor(
    readonly name: string,
    private readonly opts: { script: string; args: string[]; env: Record<string, string>; ready: RegExp; logFile: string; startTimeoutMs?: number },
  ) {
    this.log = createWriteStream(opts.logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<string> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    this.log.write(`\n==== ${new Date().toISOString()} start #${this.starts}\n`);
    const child = spawn(process.execPath, [this.opts.script, ...this.opts.args], { env: this.opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr.on('data', (d: Buffer) => this.log.write(d));
    const timeoutMs = this.opts.startTimeoutMs ?? 60_000;
    return new Promise<string>((resolve, reject) => {
      let buf = '';
      let ready = false;
      const timer = setTimeout(
        () => fail(new Error(`${this.name} did not report ready within ${timeoutMs} ms (log: ${this.opts.logFile})`)),
        timeoutMs,
      );
      const fail = (err: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(err);
      };
      child.stdout.on('data', (d: Buffer) => {
        this.log.write(d);
        if (ready) return;
        buf += d.toString();
        const m = this.opts.ready.exec(buf);
        if (m) {
          ready = true;
          clearTimeout(timer);
          this.readyValue = m[1] ?? m[0];
          resolve(this.readyValue);
        }
      });
      void this.exited.then((code) => {
        if (!ready) fail(new Error(`${this.name} exited with ${code} before it was ready (log: ${this.opts.logFile})`));
      });
    });
  }

  /** kill -9: no shutdown code runs, open sockets drop, locks held by the process are left to expire. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.kills++;
    this.log.write(`\n==== ${new Date().toISOString()} SIGKILL\n`);
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** A clean stop (SIGTERM), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((r) => this.log.end(() => r()));
  }
}
