/**
 * `--data <dir>`: broker state survives a restart, including a hard kill (SIGKILL) of the emulator process.
 * Driven only through @azure/service-bus; the CLI runs as a child process from its TypeScript source.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { peekAll, pollUntil, sdkClient, startHarness, testConfig, type Harness } from './harness';

// jest's per-project testTimeout is not applied to tests selected by path; lock/TTL tests need a few seconds.
jest.setTimeout(30_000);

let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-emulator-'));
});
afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('session state and session messages survive a restart; a cleared state stays cleared', async () => {
  let h: Harness = await startHarness({ dataDir });
  await h.client.createSender('sessions').sendMessages({ body: 'pending', sessionId: 'kept' });
  let r = await h.client.acceptSession('sessions', 'kept');
  await r.setSessionState(Buffer.from('checkpoint-7'));
  const cleared = await h.client.acceptSession('sessions', 'cleared');
  await cleared.setSessionState(Buffer.from('temporary'));
  await cleared.setSessionState(null);
  await h.close();

  h = await startHarness({ dataDir });
  try {
    r = await h.client.acceptSession('sessions', 'kept');
    expect(Buffer.from(await r.getSessionState()).toString()).toBe('checkpoint-7');
    const [m] = await pollUntil(async () => {
      const ms = await r.receiveMessages(1, { maxWaitTimeInMs: 300 });
      return ms.length ? ms : undefined;
    });
    expect(m!.body).toBe('pending');
    expect(await (await h.client.acceptSession('sessions', 'cleared')).getSessionState()).toBeNull();
  } finally {
    await h.close();
  }
});

test('messages, dead letters, deferrals, schedules, sequence numbers and dedupe history survive a restart; locks do not', async () => {
  let h: Harness = await startHarness({ dataDir });
  const sender = h.client.createSender('basic');
  await sender.sendMessages([{ body: 'completed' }, { body: 'locked-when-stopped' }, { body: 'dead' }, { body: 'deferred' }, { body: 'untouched' }]);
  const dueAt = Date.now() + 1500;
  await sender.scheduleMessages({ body: 'scheduled' }, new Date(dueAt));
  await h.client.createSender('events').sendMessages({ body: 'fanned', subject: 'error', applicationProperties: { severity: 'high' } });
  await h.client.createSender('dedupe').sendMessages({ body: 'first', messageId: 'once' });

  const receiver = h.client.createReceiver('basic', { maxAutoLockRenewalDurationInMs: 0 });
  const got = await pollUntil(async () => {
    const ms = await receiver.receiveMessages(4, { maxWaitTimeInMs: 500 });
    return ms.length === 4 ? ms : undefined;
  });
  const [completed, locked, dead, deferred] = got;
  expect(locked!.body).toBe('locked-when-stopped');
  await receiver.completeMessage(completed!);
  await receiver.deadLetterMessage(dead!, { deadLetterReason: 'Poison', deadLetterErrorDescription: 'bad payload' });
  await receiver.deferMessage(deferred!);
  const deferredSeq = deferred!.sequenceNumber!;
  const lastSeq = Number((await peekAll(h, 'basic')).at(-1)!.sequenceNumber);
  // Stop while 'locked-when-stopped' is still locked by our receiver.
  await h.close();

  h = await startHarness({ dataDir });
  try {
    const peeked = await peekAll(h, 'basic');
    expect(peeked.map((m) => [m.body, m.state])).toEqual([
      ['locked-when-stopped', 'active'],
      ['deferred', 'deferred'],
      ['untouched', 'active'],
      ['scheduled', 'scheduled'],
    ]);
    expect((await peekAll(h, 'basic', { deadLetter: true })).map((m) => [m.body, m.deadLetterReason, m.deadLetterErrorDescription])).toEqual([
      ['dead', 'Poison', 'bad payload'],
    ]);
    expect((await peekAll(h, ['events', 'errors'])).map((m) => m.body)).toEqual(['fanned']);

    // The lock died with the old process: the message is delivered again.
    const r = h.client.createReceiver('basic');
    const again = await pollUntil(async () => (await r.receiveMessages(1, { maxWaitTimeInMs: 500 }))[0]);
    expect(again.body).toBe('locked-when-stopped');
    await r.completeMessage(again);

    const [def] = await r.receiveDeferredMessages([deferredSeq]);
    expect(def!.body).toBe('deferred');
    await r.completeMessage(def!);

    // Sequence numbers continue after the restart.
    await h.client.createSender('basic').sendMessages({ body: 'after-restart' });
    const after = (await peekAll(h, 'basic')).find((m) => m.body === 'after-restart')!;
    expect(Number(after.sequenceNumber)).toBeGreaterThan(lastSeq);

    // Duplicate-detection history survives too.
    await h.client.createSender('dedupe').sendMessages({ body: 'second', messageId: 'once' });
    expect((await peekAll(h, 'dedupe')).map((m) => m.body)).toEqual(['first']);

    // The scheduled message still activates at its time.
    const scheduled = await pollUntil(async () => {
      const ms = await r.receiveMessages(5, { maxWaitTimeInMs: 300 });
      const hit = ms.find((m) => m.body === 'scheduled');
      for (const m of ms) await r.completeMessage(m);
      return hit;
    });
    expect(Date.now()).toBeGreaterThanOrEqual(dueAt);
    expect(scheduled.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(dueAt);
  } finally {
    await h.close();
  }
}, 20_000);

/** Runs local/servicebus/main.ts in a child process (TypeScript transpiled on load, no build needed). */
function startCli(configFile: string): Promise<{ child: ChildProcess; connectionString: string }> {
  const hook = path.join(dataDir, 'register-ts.js');
  fs.writeFileSync(
    hook,
    `const ts = require(${JSON.stringify(require.resolve('typescript'))});
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(require('fs').readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(out.outputText, filename);
};`,
  );
  const main = path.resolve(__dirname, '../../src/main.ts');
  const child = spawn(process.execPath, ['-r', hook, main, '--port', '0', '--config', configFile, '--data', path.join(dataDir, 'state')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('Endpoint='));
      if (line) resolve({ child, connectionString: line.trim() });
    });
    child.on('exit', (code) => reject(new Error(`emulator exited early (${code}): ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

test('CLI: acknowledged sends survive SIGKILL; SIGTERM stops cleanly', async () => {
  const configFile = path.join(dataDir, 'Config.json');
  fs.writeFileSync(configFile, JSON.stringify(testConfig));

  const first = await startCli(configFile);
  expect(first.connectionString).toMatch(
    /^Endpoint=sb:\/\/localhost:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;$/,
  );
  let client = sdkClient(first.connectionString);
  const sender = client.createSender('basic');
  for (let i = 0; i < 20; i++) await sender.sendMessages({ body: i });
  const locked = await client.createReceiver('basic').receiveMessages(3, { maxWaitTimeInMs: 1000 });
  expect(locked.length).toBeGreaterThan(0);
  first.child.kill('SIGKILL'); // no chance to flush anything
  expect((await exited(first.child)).signal).toBe('SIGKILL');
  await client.close();

  const second = await startCli(configFile);
  client = sdkClient(second.connectionString);
  try {
    const receiver = client.createReceiver('basic', { receiveMode: 'receiveAndDelete' });
    const bodies: number[] = [];
    await pollUntil(async () => {
      bodies.push(...(await receiver.receiveMessages(20, { maxWaitTimeInMs: 300 })).map((m) => m.body as number));
      return bodies.length >= 20;
    });
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => i));
  } finally {
    await client.close();
  }
  second.child.kill('SIGTERM');
  expect(await exited(second.child)).toEqual({ code: 0, signal: null });
}, 30_000);

test('a running subscribe() survives an emulator restart mid-peekLock: the held message is redelivered, none lost', async () => {
  const { startServiceBusEmulator } = await import('../../src/emulator');
  const { ServiceBusClient } = await import('@azure/service-bus');
  let emulator = await startServiceBusEmulator({ port: 0, config: testConfig, dataDir, sweepIntervalMs: 50 });
  const port = emulator.port;
  // This client must reconnect by itself, so it gets a few quick retries instead of the tests' fail-fast policy.
  const client = new ServiceBusClient(emulator.connectionString, { retryOptions: { maxRetries: 10, retryDelayInMs: 200, timeoutInMs: 5000 } });
  try {
    await client.createSender('basic').sendMessages([
      { body: 'held', messageId: 'held' },
      { body: 'next', messageId: 'next' },
    ]);
    const deliveries: string[] = [];
    let releaseHeld!: () => void;
    const heldUntilRestart = new Promise<void>((r) => (releaseHeld = r));
    // No auto-renewal: the SDK would otherwise keep renewing the stale lock in the background after the test.
    const receiver = client.createReceiver('basic', { maxAutoLockRenewalDurationInMs: 0 });
    const sub = receiver.subscribe(
      {
        processMessage: async (m) => {
          deliveries.push(m.messageId as string);
          if (deliveries.length === 1) {
            await heldUntilRestart; // still locked when the broker went away; its lock died with it
            return; // settling the stale delivery would only time out in the SDK (its link is gone)
          }
          await receiver.completeMessage(m);
        },
        processError: async () => {},
      },
      { maxConcurrentCalls: 1, autoCompleteMessages: false },
    );
    await pollUntil(() => deliveries.length === 1, 5000, 'first delivery');
    await emulator.close();
    emulator = await startServiceBusEmulator({ port, config: testConfig, dataDir, sweepIntervalMs: 50 });
    releaseHeld();
    await pollUntil(() => deliveries.includes('next') && deliveries.filter((d) => d === 'held').length === 2, 15_000, 'redelivery after restart');
    await sub.close();
    await pollUntil(async () => (await peekAll({ emulator } as Harness, 'basic')).length === 0, 5000, 'both messages completed');
  } finally {
    await client.close();
    await emulator.close();
  }
}, 30_000);
