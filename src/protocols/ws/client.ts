/**
 * WebSocket client: `wsConnect(mgr, 'ws://host:port/path', handler, opts)`.
 * Sends the opening handshake, checks the 101 answer (status, Upgrade,
 * Connection, Sec-WebSocket-Accept, subprotocol), then runs a WebSocket on
 * the connection. A refused handshake is ERROR (PROTOCOL) then CLOSE.
 */
import { parseAddress } from '../../core/address.js';
import type { AnyHandler, Connection } from '../../core/connection.js';
import type { TlsOptions } from '../../core/driver.js';
import { ErrorCode, Ev } from '../../core/events.js';
import type { Manager } from '../../core/manager.js';
import { HttpParser } from '../http/codec.js';
import { Step, hasToken } from '../http/message.js';
import { headerLines } from '../http/format.js';
import type { HttpHeaders } from '../http/format.js';
import { acceptKey, newKey, weakRandom } from './handshake.js';
import { WebSocket, wsProtocol } from './websocket.js';
import type { WsHandler, WsOptions } from './websocket.js';

export interface WsClientOptions extends WsOptions {
  /** Subprotocols to offer (Sec-WebSocket-Protocol). */
  protocols?: string[];
  /** Extra request headers (Origin, Authorization …). */
  headers?: HttpHeaders;
  /** Connect plus handshake (default 10000 ms); then ERROR(TIMEOUT) and CLOSE. */
  timeoutMs?: number;
  tls?: TlsOptions;
  pool?: string;
}

class Handshake {
  // only the head matters: a refusal's body (any size) is never read
  readonly parser = new HttpParser({ headerBytes: 4096, headerCount: 64, bodyBytes: Infinity }, false);
  readonly deadline: number;
  constructor(
    readonly request: string,
    readonly key: string,
    readonly opts: WsClientOptions,
    readonly random: (into: Uint8Array) => void,
    now: number,
  ) {
    this.deadline = now + (opts.timeoutMs || 10000);
  }
}

function refuse(c: Connection, code: ErrorCode, why: string): void {
  c.protocolState = null;
  c.emit(Ev.ERROR, { code: code, message: why });
  c.close();
}

function handshakeProtocol(c: Connection, ev: number, data: any): void {
  const h = c.protocolState;
  if (!(h instanceof Handshake)) return;
  if (ev === Ev.CONNECT && data === ErrorCode.OK) {
    c.send(h.request);
  } else if (ev === Ev.POLL && c.now() > h.deadline) {
    refuse(c, ErrorCode.TIMEOUT, 'no WebSocket handshake within ' + (h.opts.timeoutMs || 10000) + ' ms');
  } else if (ev === Ev.RECV) {
    const st = h.parser.next(c.recv);
    if (st === Step.MORE) return;
    if (st !== Step.HEAD) {
      refuse(c, ErrorCode.PROTOCOL, 'bad handshake response: ' + h.parser.errorText);
      return;
    }
    const m = h.parser.message;
    const upgrade = m.header('upgrade');
    const connection = m.header('connection');
    if (m.status !== 101) {
      refuse(c, ErrorCode.PROTOCOL, 'handshake refused: ' + m.status + ' ' + m.reason);
      return;
    }
    if (!upgrade || !hasToken(upgrade, 'websocket') || !connection || !hasToken(connection, 'upgrade') || m.headerList('sec-websocket-accept') !== acceptKey(h.key)) {
      refuse(c, ErrorCode.PROTOCOL, 'handshake answer does not prove a WebSocket server');
      return;
    }
    // every field line: a repeated Accept or Protocol (RFC 6455 11.3.3, 11.3.4) is no single value and is refused
    const chosen = m.headerList('sec-websocket-protocol');
    const offered = h.opts.protocols || [];
    if (chosen && offered.indexOf(chosen) < 0) {
      refuse(c, ErrorCode.PROTOCOL, 'server chose a subprotocol not offered: ' + chosen);
      return;
    }
    if (m.header('sec-websocket-extensions')) {
      refuse(c, ErrorCode.PROTOCOL, 'server enabled an extension not offered');
      return;
    }
    h.parser.next(c.recv); // END of the (body-less) 101: frames may follow in c.recv
    const ws = new WebSocket(c, true, h.opts, h.random);
    ws.protocol = chosen;
    c.protocolState = ws;
    c.protocol = wsProtocol;
    ws.handle(Ev.RECV, c.recv.length); // OPEN, then any frames that came with the answer
  }
}

/**
 * Opens a WebSocket to `ws://host[:port]/path` (or `wss://`). Events go to
 * `handler`: CONNECT, then OPEN once the handshake is done (or ERROR and
 * CLOSE), MESSAGE …, CLOSED, CLOSE. Returns the connection (null when the pool
 * is full). A bad URL throws.
 */
export function wsConnect(mgr: Manager, url: string, handler: WsHandler, opts?: WsClientOptions): Connection | null {
  const o = opts || {};
  const ep = parseAddress(url, '127.0.0.1', { ws: 80, wss: 443 });
  if (ep.scheme !== 'ws' && ep.scheme !== 'wss') throw new Error('wsConnect: unsupported scheme ' + ep.scheme);
  const secure = ep.scheme === 'wss';
  const driver = mgr.driver;
  const random = o.random || (driver.randomBytes ? (into: Uint8Array) => (driver.randomBytes as (b: Uint8Array) => void).call(driver, into) : weakRandom);
  const key = newKey(random);
  const defaultPort = secure ? 443 : 80;
  const host = (ep.host.indexOf(':') >= 0 ? '[' + ep.host + ']' : ep.host) + (ep.port === defaultPort ? '' : ':' + ep.port);
  let request = 'GET ' + ep.path + ' HTTP/1.1\r\nHost: ' + host + '\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ' + key + '\r\nSec-WebSocket-Version: 13\r\n';
  if (o.protocols && o.protocols.length) request += 'Sec-WebSocket-Protocol: ' + o.protocols.join(', ') + '\r\n';
  request += headerLines(o.headers) + '\r\n';
  return mgr.connect({ scheme: secure ? 'tls' : 'tcp', host: ep.host, port: ep.port, path: ep.path }, handler as AnyHandler, {
    pool: o.pool,
    tls: secure ? o.tls || {} : undefined,
    timeoutMs: o.timeoutMs || 10000,
    protocol: handshakeProtocol,
    state: new Handshake(request, key, o, random, mgr.now()),
  });
}
