/**
 * The server side of the opening handshake: an HTTP handler decides, per
 * request, to turn its connection into a WebSocket.
 *
 *   httpListen(mgr, url, (c, ev, req) => {
 *     if (ev === HttpEv.HEADERS && req.path === '/ws') wsUpgrade(req, onSocket);
 *   });
 */
import type { AnyHandler } from '../../core/connection.js';
import { BodyKind, hasToken } from '../http/message.js';
import { httpServerOf } from '../http/server.js';
import type { HttpRequest } from '../http/server.js';
import { acceptKey, protocolList, validKey } from './handshake.js';
import { WebSocket, wsProtocol } from './websocket.js';
import type { WsHandler, WsOptions } from './websocket.js';

export interface WsServerOptions extends WsOptions {
  /** Subprotocols this server speaks, preferred first; the first one the client offers is chosen. */
  protocols?: string[];
}

/**
 * Answers `req` with 101 Switching Protocols and returns the WebSocket, whose
 * events (OPEN, MESSAGE, …) then go to `handler` (or, if none is given, to the
 * connection's HTTP handler). When `req` is not a valid WebSocket handshake it
 * is answered (400, or 426 for another protocol version) and null returned.
 */
export function wsUpgrade(req: HttpRequest, handler?: WsHandler | null, opts?: WsServerOptions): WebSocket | null {
  const o = opts || {};
  const res = req.res;
  const server = httpServerOf(req.c);
  if (!server || res.started) throw new Error('wsUpgrade: needs a request of httpListen that is not answered yet');
  const upgrade = req.header('upgrade');
  const connection = req.header('connection');
  if (req.method !== 'GET' || req.version !== 11 || !upgrade || !hasToken(upgrade, 'websocket') || !connection || !hasToken(connection, 'upgrade')) {
    res.send(400, 'not a WebSocket handshake\n', { 'Content-Type': 'text/plain' });
    return null;
  }
  if (req.header('sec-websocket-version') !== '13') {
    res.send(426, 'WebSocket version 13 only\n', { 'Sec-WebSocket-Version': '13', 'Content-Type': 'text/plain' });
    return null;
  }
  // all of its field lines: a second one (RFC 6455 11.3.1 allows one) makes the value invalid
  const key = req.headerList('sec-websocket-key');
  if (!validKey(key) || req.bodyKind !== BodyKind.NONE) {
    res.send(400, 'bad or repeated Sec-WebSocket-Key\n', { 'Content-Type': 'text/plain' });
    return null;
  }
  let chosen = '';
  const offered = protocolList(req.headerList('sec-websocket-protocol'));
  const mine = o.protocols || [];
  for (let i = 0; i < mine.length && !chosen; i++) if (offered.indexOf(mine[i]) >= 0) chosen = mine[i];
  let lines = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + acceptKey(key as string) + '\r\n';
  if (chosen) lines += 'Sec-WebSocket-Protocol: ' + chosen + '\r\n';
  res.head(101, lines);
  res.end();
  const c = req.c;
  const ws = new WebSocket(c, false, o, null);
  ws.protocol = chosen;
  server.takeOver(req, wsProtocol, ws);
  if (handler) c.handler = handler as AnyHandler;
  return ws;
}
