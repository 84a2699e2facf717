/**
 * Who may open the web-chat socket, and who may speak as the `cli` channel on it.
 *
 * `channel: 'cli'` lets `parley chat` on the same machine talk to a running server. It must not be
 * reachable from elsewhere, nor from a web page in a local browser (a page on another site could
 * otherwise open `ws://localhost/ws` and read the terminal user's conversation). Hence three checks.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

const forwardingHeaders = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/** True for `127.0.0.0/8`, `::1` and their IPv4-mapped IPv6 forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined || isIP(address) === 0) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') ? isIP(v4) === 4 : address === '::1';
}

/**
 * The default `cli` channel policy: the peer is loopback, the request did not come through a proxy
 * (a reverse proxy on the same host makes every peer look local, so forwarding headers disqualify),
 * and it does not come from a browser (browsers always send `Origin` on a WebSocket upgrade).
 */
export function mayUseCliChannel(request: IncomingMessage): boolean {
  if (!isLoopbackAddress(request.socket.remoteAddress)) return false;
  if (forwardingHeaders.some((name) => request.headers[name] !== undefined)) return false;
  return request.headers.origin === undefined;
}

/**
 * The default origin policy: non-browser clients (no `Origin`) and pages served by this same host
 * (Origin host equals the `Host` header). Stops other sites' pages from opening the socket.
 */
export function isOriginAllowed(request: IncomingMessage): boolean {
  const { origin, host } = request.headers;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
