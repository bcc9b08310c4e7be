import type { Command } from 'commander';
import { Subscriptions, Topics } from 'orbiter/shared/names';
import { busFromSettings, messageView, type BusFactory } from './bus';
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
    .option('--peek', 'only peek: leave the events on the subscription')
    .action(async (o: { subscription: string; max?: number; idle?: number; peek?: boolean }) => {
      const bus = deps.bus ? deps.bus() : busFromSettings(io);
      const receiver = bus.createReceiver(Topics.runEvents, o.subscription);
      let seen = 0;
      let stop = false;
      const onSigint = (): void => {
        stop = true;
      };
      process.once('SIGINT', onSigint);
      io.err(`tailing ${Topics.runEvents}/${o.subscription}${o.peek ? ' (peek)' : ''}…`);
      try {
        let lastEvent = Date.now();
        while (!stop && (o.max === undefined || seen < o.max)) {
          const want = Math.min(50, o.max === undefined ? 50 : o.max - seen);
          const batch = o.peek ? await receiver.peekMessages(want) : await receiver.receiveMessages(want, { maxWaitTimeInMs: 1000 });
          for (const m of batch) {
            io.out(JSON.stringify(messageView(m)));
            if (!o.peek) await receiver.completeMessage(m);
            seen++;
          }
          if (batch.length) lastEvent = Date.now();
          else if (o.idle !== undefined && Date.now() - lastEvent >= o.idle * 1000) break;
          else if (o.peek) await new Promise((r) => setTimeout(r, 1000));
        }
      } finally {
        process.removeListener('SIGINT', onSigint);
        await receiver.close();
        await bus.close();
      }
      io.err(`${seen} event(s)`);
    });
}
