/**
 * DNS rebinding guard for Orbiter's local HTTP servers (dashboard, functions host, Databricks emulator and its run
 * pages): a hostile page whose name resolves to 127.0.0.1 reaches the server with its own name in `Host` (and
 * `Origin`), so only loopback names, and the host the server was bound to, pass.
 */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a `Host` header names this server: a loopback name (or `boundHost`), with no port or this server's port. */
export function isOwnHost(hostHeader: string | undefined, port: number, boundHost?: string): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(hostHeader.trim());
  if (!m) return false;
  const name = m[1]!.toLowerCase();
  if (m[2] !== undefined && Number(m[2]) !== port) return false;
  return LOOPBACK.has(name) || (boundHost !== undefined && name === boundHost.toLowerCase());
}

/** Whether an `Origin` header (sent by browsers on cross-site fetches) is this server itself; absent is fine. */
export function isOwnOrigin(origin: string | undefined, port: number, boundHost?: string): boolean {
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    return u.protocol === 'http:' && isOwnHost(u.host, port, boundHost);
  } catch {
    return false;
  }
}
