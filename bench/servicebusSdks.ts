/**
 * Service Bus emulator throughput with each official SDK, side by side: JS (@azure/service-bus, in this process),
 * Python (azure-servicebus, its own venv) and Java (azure-messaging-servicebus, Maven). Each sends N messages in
 * batches of 100, then receives and completes them one by one (peekLock), against the emulator's CLI on loopback.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { check, type BenchContext, type BenchResult, type GoalCheck } from './support/stats';

interface Rates {
  n: number;
  sendPerSec: number;
  receiveCompletePerSec: number;
}

/** Goals (msg/s) every SDK should reach on the 2-core reference machine: send in batches, receive+complete singly. */
const GOALS = { sendPerSec: 500, receiveCompletePerSec: 150 } as const;

function startEmulator(repoRoot: string): Promise<{ child: ChildProcess; connectionString: string }> {
  const pkg = join(repoRoot, 'packages', 'servicebus-emulator');
  const child = spawn('node', [join(pkg, 'dist', 'main.js'), '--port', '0', '--config', join(pkg, 'conformance', 'config.json')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line?.startsWith('Endpoint=')) resolve({ child, connectionString: line.trim() });
    });
    child.once('exit', (code) => reject(new Error(`servicebus emulator exited (${code}) before printing its connection string`)));
  });
}

async function jsRates(cs: string, queue: string, n: number): Promise<Rates> {
  const client = new ServiceBusClient(cs, { retryOptions: { maxRetries: 0, timeoutInMs: 20_000 } });
  try {
    const sender = client.createSender(queue);
    let t0 = performance.now();
    for (let start = 0; start < n; start += 100) {
      await sender.sendMessages(Array.from({ length: Math.min(100, n - start) }, (_, i) => ({ body: `m${start + i}` })));
    }
    const sendS = (performance.now() - t0) / 1000;
    const receiver = client.createReceiver(queue);
    t0 = performance.now();
    let seen = 0;
    while (seen < n) {
      const batch = await receiver.receiveMessages(100, { maxWaitTimeInMs: 10_000 });
      if (batch.length === 0) throw new Error(`JS: stalled after ${seen} of ${n} messages`);
      for (const m of batch) await receiver.completeMessage(m);
      seen += batch.length;
    }
    return { n, sendPerSec: n / sendS, receiveCompletePerSec: n / ((performance.now() - t0) / 1000) };
  } finally {
    await client.close();
  }
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).slice(-400)}`);
  return r.stdout;
}

function pythonRates(repoRoot: string, cs: string, queue: string, n: number): Rates {
  run('bash', [join(repoRoot, 'scripts', 'setup-servicebus-python.sh')], repoRoot);
  const py = join(repoRoot, '.orbiter', 'venv-servicebus', 'bin', 'python');
  const out = run(
    py,
    [join(repoRoot, 'packages', 'servicebus-emulator', 'conformance', 'python', 'sdk_throughput.py'), cs, queue, String(n)],
    repoRoot,
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Rates;
}

function javaRates(repoRoot: string, cs: string, queue: string, n: number): Rates {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  try {
    const outFile = join(dir, 'rates.json');
    run(
      'mvn',
      [
        '-B',
        '-q',
        'test',
        '-Dtest=ThroughputBench',
        '-Dsurefire.failIfNoSpecifiedTests=false',
        `-Dbench.connection=${cs}`,
        `-Dbench.queue=${queue}`,
        `-Dbench.n=${n}`,
        `-Dbench.out=${outFile}`,
      ],
      join(repoRoot, 'packages', 'servicebus-emulator', 'conformance', 'java'),
    );
    return JSON.parse(readFileSync(outFile, 'utf8')) as Rates;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function servicebusSdks(ctx: BenchContext): Promise<BenchResult> {
  const started = performance.now();
  const n = ctx.files ?? (ctx.quick ? 500 : 2000);
  const { child, connectionString } = await startEmulator(ctx.repoRoot);
  const figures: Record<string, Rates> = {};
  try {
    ctx.log(`JS SDK: ${n} messages`);
    figures['js'] = await jsRates(connectionString, 'q-bulk', n);
    ctx.log(`Python SDK: ${n} messages`);
    figures['python'] = pythonRates(ctx.repoRoot, connectionString, 'q-bulk', n);
    ctx.log(`Java SDK: ${n} messages (first run may download from Maven Central)`);
    figures['java'] = javaRates(ctx.repoRoot, connectionString, 'q-bulk', n);
  } finally {
    child.kill('SIGTERM');
  }
  const goals: GoalCheck[] = [];
  for (const [sdk, r] of Object.entries(figures)) {
    goals.push(check(`${sdk} send (batches of 100)`, Math.round(r.sendPerSec), '>=', GOALS.sendPerSec, 'msg/s'));
    goals.push(check(`${sdk} receive+complete`, Math.round(r.receiveCompletePerSec), '>=', GOALS.receiveCompletePerSec, 'msg/s'));
  }
  return {
    name: 'servicebus-sdks',
    figures,
    goals,
    notes: [
      `${n} messages per SDK on one connection, one run each, emulator CLI in its own process (memory only)`,
      'JS runs in the bench process; Python and Java in their own processes (JVM start and Maven not timed)',
    ],
    durationMs: performance.now() - started,
  };
}
