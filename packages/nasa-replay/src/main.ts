#!/usr/bin/env node
/**
 * `nasa-replay --fixtures <dir> [--samples <dir>] [--port 0]`: serves recorded NASA responses over HTTP and prints the
 * settings (NASA_API_BASE_URL, …) that point Orbiter's clients at it. Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { dedupe, emptyCorpus, loadFixtures, loadSamples } from './corpus';
import { startReplayServer } from './server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      fixtures: { type: 'string', multiple: true },
      samples: { type: 'string' },
      port: { type: 'string', default: '0' },
      help: { type: 'boolean' },
    },
  });
  const port = Number(values.port);
  if (values.help || !Number.isInteger(port) || port < 0 || port > 65535 || (!values.fixtures?.length && !values.samples)) {
    process.stderr.write('usage: nasa-replay --fixtures <dir>… [--samples <dir>] [--port <0-65535>]\n');
    process.exit(values.help ? 0 : 2);
  }
  const corpus = emptyCorpus();
  for (const dir of values.fixtures ?? []) loadFixtures(corpus, dir);
  const captures = values.samples ? loadSamples(corpus, values.samples) : [];
  const server = await startReplayServer(dedupe(corpus), { port });
  process.stderr.write(`nasa-replay: ${captures.length} captures, listening at ${server.url}\n`);
  for (const [k, v] of Object.entries(server.settings)) process.stdout.write(`${k}=${v}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`nasa-replay: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
