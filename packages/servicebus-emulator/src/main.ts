/**
 * CLI: `node packages/servicebus-emulator/dist/main.js --port 5672 --config packages/servicebus-emulator/config.json [--data <dir>]`.
 * Prints the connection string on stdout; stops cleanly on SIGINT/SIGTERM.
 */
import { Command, InvalidArgumentError } from 'commander';
import { createPinoLogger } from './logger';
import { startServiceBusEmulator } from './emulator';
import type { SasPolicy } from './auth';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be an integer port (0-65535)');
  return n;
}

function parsePolicy(v: string, previous: SasPolicy[]): SasPolicy[] {
  const [name, key, rights] = v.split(':');
  const list = (rights ?? '').split(',').filter(Boolean);
  if (!name || !key || list.length === 0 || list.some((r) => !['Manage', 'Send', 'Listen'].includes(r))) {
    throw new InvalidArgumentError('must be name:key:rights with rights from Manage,Send,Listen (e.g. sender:S3cret:Send)');
  }
  return [...previous, { name, key, rights: list as SasPolicy['rights'] }];
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('servicebus-emulator')
    .description('Local Azure Service Bus emulator (AMQP 1.0) for @azure/service-bus')
    .option('--port <p>', 'TCP port (0 = any free port)', parsePort, 5672)
    .requiredOption('--config <file>', 'entities, in the shape of Microsoft emulator Config.json')
    .option('--data <dir>', 'keep messages in this directory across restarts (memory only when omitted)')
    .option('--host <address>', 'interface to listen on (0.0.0.0 or :: exposes it to the network)', '127.0.0.1')
    .option(
      '--policy <name:key:rights>',
      'SAS policy tokens are checked against, e.g. sender:S3cret:Send (repeatable; the first is printed). Default RootManageSharedAccessKey:SAS_KEY_VALUE:Manage,Send,Listen',
      parsePolicy,
      [] as SasPolicy[],
    )
    .parse(argv);
  const o = program.opts<{ port: number; config: string; data?: string; host: string; policy: SasPolicy[] }>();
  const logger = createPinoLogger(undefined, 'servicebus-emulator');
  const emulator = await startServiceBusEmulator({ port: o.port, config: o.config, dataDir: o.data, logger, host: o.host, policies: o.policy });
  process.stdout.write(`${emulator.connectionString}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('servicebus emulator stopping', { signal });
    emulator.close().then(
      () => process.exit(0),
      (e) => {
        logger.error('servicebus emulator failed to stop cleanly', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
