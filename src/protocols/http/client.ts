/**
 * HTTP/1.1 client on the core: `httpRequest(mgr, url, handler, opts)`.
 *
 * One request per connection (sent with "Connection: close"). The response
 * streams to the handler as it arrives: RESPONSE (status and headers), then
 * RESPONSE_BODY for each piece (chunked bodies already decoded), then
 * RESPONSE_END. Failures arrive as the core's ERROR (TIMEOUT, PROTOCOL …)
 * followed by CLOSE. Redirects are not followed unless `maxRedirects` says so.
 */
import { parseAddress } from '../../core/address.js';
import type { AnyHandler, Connection, Handler, WithState } from '../../core/connection.js';
import { Life } from '../../core/connection.js';
import type { TlsOptions } from '../../core/driver.js';
import { ErrorCode, Ev } from '../../core/events.js';
import type { CoreEvents } from '../../core/events.js';
import type { Manager } from '../../core/manager.js';
import { HttpParser } from './codec.js';
import { HttpMessage, Step } from './message.js';
import { headerLines, linesHave } from './format.js';
import type { HttpLimits } from './message.js';
import type { HttpHeaders } from './format.js';
import { HttpEv } from './events.js';
import { Outbox } from './writer.js';
import { indexOfText } from '../../core/text.js';

export interface HttpRequestOptions {
  /** Default GET. */
  method?: string;
  headers?: HttpHeaders;
  /** Sent with a Content-Length; held by reference and fed to the send ring as it drains. */
  body?: string | Uint8Array;
  /** The whole exchange, connect included (default 30000 ms); then ERROR(TIMEOUT) and CLOSE. */
  timeoutMs?: number;
  /** Redirects (301, 302, 303, 307, 308) to follow; default 0: the 3xx response is delivered as it is. */
  maxRedirects?: number;
  /** Bounds on the response head (and body, if set; by default a body of any size streams). */
  limits?: { headerBytes?: number; headerCount?: number; bodyBytes?: number };
  /** For https: CA, verify, servername … */
  tls?: TlsOptions;
  pool?: string;
}

const EMPTY = /*#__PURE__*/ new Uint8Array(0);

/** The response, as the handler sees it. */
export class HttpClientResponse extends HttpMessage {
  /** RESPONSE_BODY: the next piece of the body (valid during the event). */
  chunk: Uint8Array = EMPTY;
  /** The URL this response answers (after redirects, the last one). */
  url = '';
}

function newResponse(): HttpMessage {
  return new HttpClientResponse();
}

class ClientConn {
  readonly parser: HttpParser;
  readonly out: Outbox;
  res: HttpClientResponse | null = null;
  done = false;
  deadline: number;

  constructor(
    readonly c: Connection,
    readonly mgr: Manager,
    readonly url: string,
    readonly opts: HttpRequestOptions,
    readonly userHandler: AnyHandler,
    limits: HttpLimits,
    readonly request: string,
  ) {
    this.parser = new HttpParser(limits, false, newResponse);
    this.parser.noBody = (opts.method || 'GET').toUpperCase() === 'HEAD';
    this.out = new Outbox(c, noScratch);
    this.deadline = c.now() + (opts.timeoutMs || 30000);
  }
}

function noScratch(): Uint8Array {
  return EMPTY; // a request body is a string or bytes, never a stored file
}

function fail(c: Connection, s: ClientConn, code: ErrorCode, message: string): void {
  s.done = true;
  c.emit(Ev.ERROR, { code: code, message: message });
  c.close();
}

function clientProtocol(c: WithState<ClientConn>, ev: number, data: any): void {
  const s = c.protocolState;
  if (!s || s.done) return;
  switch (ev) {
    case Ev.CONNECT:
      if (data === ErrorCode.OK) {
        s.out.push(s.request);
        if (s.opts.body && s.opts.body.length > 0) s.out.push(s.opts.body);
        s.out.pump();
      }
      break;
    case Ev.SEND:
      s.out.pump();
      break;
    case Ev.RECV:
      readResponse(c, s);
      break;
    case Ev.POLL:
      if (c.now() > s.deadline) fail(c, s, ErrorCode.TIMEOUT, 'no complete response within ' + (s.opts.timeoutMs || 30000) + ' ms');
      break;
    case Ev.CLOSE:
      if (!(c.life & Life.OPENED)) break; // the connect failed: CONNECT told the handler
      if (s.res) {
        const st = s.parser.finish();
        if (st === Step.END) {
          s.done = true;
          c.emit(HttpEv.RESPONSE_END, s.res);
          break;
        }
      }
      s.done = true;
      c.emit(Ev.ERROR, { code: ErrorCode.PROTOCOL, message: s.res ? 'response cut short' : 'closed before a response' });
      break;
  }
}

function readResponse(c: Connection, s: ClientConn): void {
  const parser = s.parser;
  for (;;) {
    if (s.done) return;
    const st = parser.next(c.recv);
    switch (st) {
      case Step.MORE:
        return;
      case Step.HEAD: {
        const res = parser.message as HttpClientResponse;
        if (res.status < 200) break; // 100 Continue and other interim answers
        if (follow(c, s, res)) return;
        res.url = s.url;
        s.res = res;
        c.emit(HttpEv.RESPONSE, res);
        break;
      }
      case Step.DATA: {
        const res = s.res as HttpClientResponse;
        res.chunk = c.recv.bytes.subarray(c.recv.start, c.recv.start + parser.dataLength);
        c.emit(HttpEv.RESPONSE_BODY, res);
        res.chunk = EMPTY;
        break;
      }
      case Step.END:
        if (!s.res) break; // end of an interim response
        s.done = true;
        c.emit(HttpEv.RESPONSE_END, s.res);
        c.close();
        return;
      default:
        fail(c, s, ErrorCode.PROTOCOL, 'bad response: ' + parser.errorText);
        return;
    }
  }
}

/** Follows a redirect on a new connection when allowed; the handler continues there. */
function follow(c: Connection, s: ClientConn, res: HttpMessage): boolean {
  const left = s.opts.maxRedirects || 0;
  const st = res.status;
  if (left <= 0 || (st !== 301 && st !== 302 && st !== 303 && st !== 307 && st !== 308)) return false;
  const location = res.header('location');
  if (!location) return false;
  const next = resolveUrl(s.url, location);
  const o: HttpRequestOptions = {};
  const keys = Object.keys(s.opts);
  for (let i = 0; i < keys.length; i++) (o as any)[keys[i]] = (s.opts as any)[keys[i]];
  o.maxRedirects = left - 1;
  const method = (s.opts.method || 'GET').toUpperCase();
  if (st === 303 || ((st === 301 || st === 302) && method === 'POST')) {
    o.method = 'GET';
    o.body = undefined;
  }
  o.timeoutMs = s.deadline - c.now() > 1 ? s.deadline - c.now() : 1;
  const handler = s.userHandler;
  s.done = true;
  c.handler = undefined; // this hop is over; the application hears from the next connection
  c.close();
  httpRequest(s.mgr, next, handler as HttpClientHandler, o);
  return true;
}

/** `location` relative to `base` (absolute URLs, absolute paths, and relative paths). */
export function resolveUrl(base: string, location: string): string {
  if (indexOfText(location, '://') > 0) return location;
  const scheme = indexOfText(base, '://');
  const pathStart = base.indexOf('/', scheme + 3);
  const origin = pathStart < 0 ? base : base.substring(0, pathStart);
  if (location.charAt(0) === '/') return origin + location;
  let dir = pathStart < 0 ? '/' : base.substring(pathStart);
  const q = dir.indexOf('?');
  if (q >= 0) dir = dir.substring(0, q);
  return origin + dir.substring(0, dir.lastIndexOf('/') + 1) + location;
}

/** What an `httpRequest` handler receives: the core events plus these. */
export interface HttpClientEvents extends CoreEvents {
  [HttpEv.RESPONSE]: HttpClientResponse;
  [HttpEv.RESPONSE_BODY]: HttpClientResponse;
  [HttpEv.RESPONSE_END]: HttpClientResponse;
}

export type HttpClientHandler = Handler<HttpClientEvents>;

/**
 * Sends one request to `http://host[:port]/path` (or `https://`). Events go
 * to `handler` (see `HttpEv.RESPONSE…`). Returns the connection, or null when
 * the pool is full. A bad URL throws.
 */
export function httpRequest(mgr: Manager, url: string, handler: HttpClientHandler, opts?: HttpRequestOptions): Connection | null {
  const o = opts || {};
  const ep = parseAddress(url, '127.0.0.1', { http: 80, https: 443 });
  if (ep.scheme !== 'http' && ep.scheme !== 'https') throw new Error('httpRequest: unsupported scheme ' + ep.scheme);
  const secure = ep.scheme === 'https';
  const method = (o.method || 'GET').toUpperCase();
  let lines = headerLines(o.headers);
  const defaultPort = secure ? 443 : 80;
  const hostName = ep.host.indexOf(':') >= 0 ? '[' + ep.host + ']' : ep.host;
  let head = method + ' ' + ep.path + ' HTTP/1.1\r\n';
  if (!linesHave(lines, 'host')) head += 'Host: ' + hostName + (ep.port === defaultPort ? '' : ':' + ep.port) + '\r\n';
  const bodyLength = o.body ? o.body.length : 0;
  if (!linesHave(lines, 'content-length') && (bodyLength > 0 || method === 'POST' || method === 'PUT')) lines += 'Content-Length: ' + bodyLength + '\r\n';
  if (!linesHave(lines, 'connection')) lines += 'Connection: close\r\n';
  head += lines + '\r\n';
  const l = o.limits || {};
  const limits: HttpLimits = {
    headerBytes: l.headerBytes || 4096,
    headerCount: l.headerCount || 64,
    bodyBytes: l.bodyBytes === undefined ? Infinity : l.bodyBytes,
  };
  const c = mgr.connect({ scheme: secure ? 'tls' : 'tcp', host: ep.host, port: ep.port, path: ep.path }, handler as AnyHandler, {
    pool: o.pool,
    tls: secure ? o.tls || {} : undefined,
    timeoutMs: o.timeoutMs || 30000,
    protocol: clientProtocol,
  });
  // The state writes into the connection, so it is made with it (no event arrives before the next poll).
  if (c) c.protocolState = new ClientConn(c, mgr, url, o, handler as AnyHandler, limits, head);
  return c;
}
