/**
 * The AMQP details of session receivers: the `com.microsoft:session-filter` a client asks with, the attach Azure
 * answers with (the chosen session id in the source filter, `com.microsoft:locked-until-utc` in .NET ticks), and
 * holding an attach unanswered while a next-available receiver waits for a session (rhea answers at once otherwise).
 */
import rhea, { type Sender } from 'rhea';

export const SESSION_FILTER = 'com.microsoft:session-filter';
const LOCKED_UNTIL_UTC = 'com.microsoft:locked-until-utc';
/** The link property carrying how long a next-available receiver is prepared to wait (ms, Python sends it). */
const OPERATION_TIMEOUT = 'com.microsoft:timeout';
/** .NET DateTime ticks at the Unix epoch. */
const EPOCH_TICKS = 621355968000000000n;

export type SessionRequest = { kind: 'none' } | { kind: 'named'; sessionId: string } | { kind: 'next' };

/** What the attach asks for: no session filter, a named session, or the next available one (a null filter value). */
export function sessionRequest(source: unknown): SessionRequest {
  const filter = (source as { filter?: Record<string, unknown> } | undefined)?.filter;
  if (!filter || !Object.prototype.hasOwnProperty.call(filter, SESSION_FILTER)) return { kind: 'none' };
  const v = filter[SESSION_FILTER];
  if (v === null || v === undefined) return { kind: 'next' };
  return { kind: 'named', sessionId: Buffer.isBuffer(v) ? v.toString('utf8') : String(v) };
}

/** How long the client says it will wait for a session (its own timeout), else `fallbackMs`. */
export function waitTimeMs(link: Sender, fallbackMs: number): number {
  const props = (link as unknown as { remote: { attach?: { properties?: Record<string, unknown> } } }).remote.attach?.properties;
  const v = props?.[OPERATION_TIMEOUT];
  return typeof v === 'number' && v > 0 ? v : fallbackMs;
}

export function toTicks(epochMs: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(Math.round(epochMs)) * 10000n + EPOCH_TICKS);
  return b;
}

/** Answers the attach with the session the receiver now holds. */
export function announceSession(link: Sender, sessionId: string, lockedUntil: number): void {
  const source = { ...(link.source as object), filter: { ...((link.source as { filter?: object }).filter ?? {}), [SESSION_FILTER]: sessionId } };
  link.set_source(source as never);
  const local = (link as unknown as { local: { attach: { properties?: Record<string, unknown> } } }).local.attach;
  local.properties = { ...(local.properties ?? {}), [LOCKED_UNTIL_UTC]: rhea.types.wrap_long(toTicks(lockedUntil)) };
}

interface LinkState {
  state: { open_requests: number };
  connection: { _register(): void };
}

/** Keeps rhea from sending our attach (it opens links as soon as the peer attaches). */
export function holdAttach(link: Sender): void {
  (link as unknown as LinkState).state.open_requests = 0;
}

/** Sends a held attach now (followed by a detach if the link was closed meanwhile). */
export function releaseAttach(link: Sender): void {
  const l = link as unknown as LinkState;
  l.state.open_requests = 1;
  l.connection._register();
}
