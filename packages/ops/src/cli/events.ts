import type { Command } from 'commander';
import { Subscriptions, Topics } from 'orbiter/shared/names';
import { busFromSettings, messageView, type BusFactory } from './bus';
import { CliError, ExitCode } from './exitCodes';
import type { CliIO } from './io';

export function registerEvents(program: Command, io: CliIO, deps: { bus?: BusFactory }): void {
  program
    .command('events')
    .description('run events (topic run-events)')
    .command('tail')
    .description(`print run events as JSON lines from ${Topics.runEvents}/${Subscriptions.runEventsMonitor} (Ctrl-C to stop)`)
    .option('--subscription <name>', 'subscription', Subscriptions.runEventsMonitor)
    .option('--max <n>', 'stop after n events', (v) => Number(v))
    .option('--idle <seconds>', 'stop after this long without an event', (v) => Number(v))
    .option('--consume', 'receive and complete the events (they leave the subscription); the default only peeks')
    .option('--peek', 'only peek (the default)')
    .action(async (o: { subscription: string; max?: number; idle?: number; consume?: boolean; peek?: boolean }) => {
      if (o.consume && o.peek) throw new CliError('--consume and --peek exclude each other', ExitCode.usage);
      // Looking must not take events away from the monitor subscription's real consumer: peek unless asked.
      const peek = !o.consume;
      const bus = deps.bus ? deps.bus() : busFromSettings(io);
      const receiver = bus.createReceiver(Topics.runEvents, o.subscription);
      let seen = 0;
      let stop = false;
      const onSigint = (): void => {
        stop = true;
      };
      process.once('SIGINT', onSigint);
      io.err(`tailing ${Topics.runEvents}/${o.subscription}${peek ? ' (peek)' : ' (consuming)'}…`);
      try {
        let lastEvent = Date.now();
        while (!stop && (o.max === undefined || seen < o.max)) {
          const want = Math.min(50, o.max === undefined ? 50 : o.max - seen);
          const batch = peek ? await receiver.peekMessages(want) : await receiver.receiveMessages(want, { maxWaitTimeInMs: 1000 });
          for (const m of batch) {
            io.out(JSON.stringify(messageView(m)));
            if (!peek) await receiver.completeMessage(m);
            seen++;
          }
          if (batch.length) lastEvent = Date.now();
          else if (o.idle !== undefined && Date.now() - lastEvent >= o.idle * 1000) break;
          else if (peek) await new Promise((r) => setTimeout(r, 1000));
        }
      } finally {
        process.removeListener('SIGINT', onSigint);
        await receiver.close();
        await bus.close();
      }
      io.err(`${seen} event(s)`);
    });
}
