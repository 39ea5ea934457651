/**
 * HTTP/1.1 server on the core: `httpListen(mgr, url, handler, opts)`.
 *
 * One request at a time per connection, in arrival order: the next pipelined
 * request stays in the receive ring (and pushes back on the peer once the
 * ring is full) until the current response has been handed to the send ring.
 * Bodies are never collected anywhere but the receive ring: small ones are
 * delivered whole (MESSAGE, `req.body`), larger ones stream (BODY, END) when
 * the handler asks for it with `req.stream()`, and anything else is answered
 * 413 from its declared length.
 */
import type { Endpoint } from '../../core/address.js';
import { parseAddress } from '../../core/address.js';
import { Flag } from '../../core/connection.js';
import type { AnyHandler, Connection, Handler } from '../../core/connection.js';
import type { TlsOptions } from '../../core/driver.js';
import { Ev } from '../../core/events.js';
import type { CoreEvents } from '../../core/events.js';
import type { Manager } from '../../core/manager.js';
import { ringView } from '../../core/bytes.js';
import { HttpParser } from './codec.js';
import { BodyKind, DEFAULT_HTTP_LIMITS, HttpMessage, Step, hasToken } from './message.js';
import { CHUNK_END, LAST_CHUNK, chunkStart, headerLines, linesHave, linesValue, reasonPhrase, statusLine } from './format.js';
import type { HttpLimits } from './message.js';
import type { HttpHeaders } from './format.js';
import { HttpEv } from './events.js';
import { utf8Text } from '../utf8.js';
import { Outbox } from './writer.js';
import type { FileStore } from './writer.js';

export interface HttpServerOptions {
  /** Bounds on requests; missing fields take `DEFAULT_HTTP_LIMITS`. */
  limits?: { headerBytes?: number; headerCount?: number; bodyBytes?: number };
  /** Connection pool for accepted connections (default "default"). */
  pool?: string;
  /** Certificate and key: serve https (also implied by an `https://` URL). */
  tls?: TlsOptions;
  /** Bodies up to this size arrive whole in MESSAGE (default and upper bound: the receive ring). */
  bufferBytes?: number;
  /** From the first byte of a request head until it is complete (default 5000 ms); then 408. */
  headerTimeoutMs?: number;
  /** Silence allowed between requests or inside a body (default 30000 ms). */
  idleTimeoutMs?: number;
  /** This listener's connections beyond which new ones are answered 503 (default: no own cap). */
  maxConns?: number;
  /** Pool slots kept free for answering 503 instead of refusing outright (default 1). */
  reserveSlots?: number;
  /** Bytes of file data read per step when sending stored files (default 512). */
  fileChunkBytes?: number;
}

const EMPTY = /*#__PURE__*/ new Uint8Array(0);
/** Receive-ring bytes kept free beside a buffered body, so chunk framing and the next request can still come in. */
const BUFFER_SLACK = 64;

const enum BodyMode {
  /** No body, or not decided yet. */
  NONE = 0,
  /** Delivered whole in MESSAGE once all of it is in the ring. */
  BUFFER = 1,
  /** Delivered in BODY events. */
  STREAM = 2,
  /** Read and dropped (the handler answered without wanting it). */
  DISCARD = 3,
}

/** A request, as the handler sees it. Valid until the connection closes; the next request is a new object. */
export class HttpRequest extends HttpMessage {
  /** The connection it came on. */
  c: Connection = null as any;
  /** Where the answer goes. */
  res: HttpResponse = null as any;
  /** MESSAGE: the whole body, a view into the receive ring (valid during the event). */
  body: Uint8Array = EMPTY;
  /** BODY: the next piece of the body (valid during the event). */
  chunk: Uint8Array = EMPTY;
  /** Path parameters filled in by a router (`/api/:id` → `params.id`). */
  params: { [name: string]: string } = {};
  /** @internal set by `stream()` */
  streamed = false;
  /** @internal set by `deferUntilWritable()` during BODY */
  deferred = false;

  /** At HEADERS: deliver the body in BODY events and END, whatever its size (up to `limits.bodyBytes`). */
  stream(): void {
    this.streamed = true;
  }

  /**
   * During BODY: keep this chunk in the receive ring and deliver it again once
   * the send ring has drained (for a handler passing the body on, such as
   * `res.write(req.chunk)` returning false). Reading stops meanwhile, so the
   * peer feels the backpressure.
   */
  deferUntilWritable(): void {
    this.deferred = true;
  }

  /** The body (during MESSAGE) decoded from UTF-8. */
  text(): string {
    return utf8Text(this.body, 0, this.body.length);
  }
}

const enum ResState {
  IDLE = 0,
  HEAD_SENT = 1,
  ENDED = 2,
}

/**
 * Writes one response. `write` and `end` return false when they did not take
 * the data because earlier data is still on its way to the socket; WRITABLE
 * says when to try again. Framing (Content-Length, chunked, Connection) is
 * chosen here; nothing needs clearing afterwards.
 */
export class HttpResponse {
  /** The status sent (0 until the head is written). */
  status = 0;
  /** @internal the connection must close once this response is out */
  closeAfter = false;
  /** @internal write() refused data: emit WRITABLE when the outbox drains */
  wantWritable = false;
  private state = ResState.IDLE;
  private chunked = false;
  private noBody = false;
  /** Bytes still owed under a declared Content-Length (-1: not declared). */
  private owed = -1;
  /** `out.pushed` right after the head: pieces beyond it are body. */
  private headMark = 0;
  /** `out.pushed` right after the last piece that is a view into this connection's receive ring. */
  private pinMark = 0;
  private readonly out: Outbox;

  constructor(
    private readonly req: HttpRequest,
    private readonly conn: ServerConn,
  ) {
    this.out = new Outbox(req.c, conn.server.scratch);
  }

  /** The head has been written. */
  get started(): boolean {
    return this.state !== ResState.IDLE;
  }

  /** `end()` was called. */
  get ended(): boolean {
    return this.state === ResState.ENDED;
  }

  /** Ended, and every byte is in the send ring. */
  get finished(): boolean {
    return this.state === ResState.ENDED && this.out.empty;
  }

  /** Whether `write` would take data now: no earlier body data is still waiting. */
  get writable(): boolean {
    return this.state !== ResState.ENDED && !this.bodyWaiting() && !this.req.c.isClosing;
  }

  private bodyWaiting(): boolean {
    const out = this.out;
    return out.pushed > (out.finished > this.headMark ? out.finished : this.headMark);
  }

  /**
   * Writes the status line and headers. Without a Content-Length header the
   * body is sent chunked (HTTP/1.1) or delimited by closing (HTTP/1.0).
   * Throws when the head was already written, or a header would be malformed.
   */
  head(status: number, headers?: HttpHeaders): void {
    if (this.state !== ResState.IDLE) throw new Error('http: response head already written');
    const req = this.req;
    let lines = headerLines(headers);
    this.status = status;
    this.noBody = req.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    if (status >= 200) {
      const length = linesValue(lines, 'content-length');
      if (linesHave(lines, 'transfer-encoding')) throw new Error('http: the writer chooses Transfer-Encoding itself');
      if (length !== null) {
        this.owed = +length;
        if (!(this.owed >= 0)) throw new Error('http: bad Content-Length ' + length);
        if (req.method === 'HEAD') this.owed = -1;
      } else if (!this.noBody) {
        if (req.version === 11) {
          this.chunked = true;
          lines += 'Transfer-Encoding: chunked\r\n';
        } else {
          this.closeAfter = true; // HTTP/1.0 without a length: the close ends the body
        }
      } else if (status !== 204 && status !== 304 && req.method === 'HEAD' && req.version === 11) {
        lines += 'Transfer-Encoding: chunked\r\n'; // what a GET would have said
      }
      if (!req.keepAlive || this.conn.closing) this.closeAfter = true;
      if (!linesHave(lines, 'connection')) {
        if (this.closeAfter) lines += 'Connection: close\r\n';
        else if (req.version === 10) lines += 'Connection: keep-alive\r\n';
      } else if (hasCloseToken(lines)) {
        this.closeAfter = true;
      }
    }
    this.state = ResState.HEAD_SENT;
    this.out.push(statusLine(status) + lines + '\r\n');
    this.headMark = this.out.pushed;
    this.out.pump();
  }

  /**
   * Sends part of the body. Returns false, taking nothing, while earlier data
   * is still waiting; then WRITABLE follows. Data is held by reference until
   * sent: `req.chunk` and `req.body` stay in the receive ring until then (the
   * server reads nothing further meanwhile), a view into another ring is taken
   * only when it fits at once.
   */
  write(data: string | Uint8Array): boolean {
    if (this.state === ResState.ENDED || this.req.c.isClosing) return false;
    if (this.state === ResState.IDLE) this.head(200);
    if (this.bodyWaiting() || !this.fits(data)) {
      this.wantWritable = true;
      return false;
    }
    const n = data.length;
    if (n === 0 || this.noBody) return true;
    if (this.owed >= 0) {
      if (n > this.owed) throw new Error('http: body longer than its Content-Length');
      this.owed -= n;
    }
    if (this.chunked) this.out.push(chunkStart(n));
    this.out.push(data);
    if (this.ownReceived(data)) this.pinMark = this.out.pushed;
    if (this.chunked) this.out.push(CHUNK_END);
    this.out.pump();
    return true;
  }

  /** @internal bytes of the receive ring wait to be sent: the server must not drop them yet */
  get pinned(): boolean {
    return this.out.finished < this.pinMark;
  }

  /** Ends the response, with `data` as its last (or only) part. False when `data` was not taken (see `write`). */
  end(data?: string | Uint8Array): boolean {
    if (this.state === ResState.ENDED || this.req.c.isClosing) return false;
    if (this.state === ResState.IDLE) {
      const n = data ? data.length : 0;
      this.head(200, { 'Content-Length': n });
    }
    if (data && data.length > 0 && !this.write(data)) return false;
    if (this.chunked && !this.noBody) this.out.push(LAST_CHUNK);
    if (this.owed > 0) this.closeAfter = true; // the body fell short of its length: only closing can end it
    this.state = ResState.ENDED;
    this.out.pump(); // the server moves on to the next request at its next look (RECV, SEND or POLL)
    return true;
  }

  /** A whole response: status, headers with Content-Length, body. */
  send(status: number, body?: string | Uint8Array, headers?: HttpHeaders): boolean {
    const b = body || '';
    let lines = headerLines(headers);
    if (status >= 200 && status !== 204 && status !== 304 && !linesHave(lines, 'content-length')) lines += 'Content-Length: ' + b.length + '\r\n';
    this.head(status, lines);
    return this.end(b.length ? b : undefined);
  }

  /** Sends `len` bytes of the stored file `name` from `offset` as body (after `head` with a Content-Length). */
  writeFile(store: FileStore, name: string, offset: number, len: number): boolean {
    if (this.state !== ResState.HEAD_SENT || this.bodyWaiting()) return false;
    if (this.noBody || len === 0) return true;
    if (this.owed >= 0) {
      if (len > this.owed) throw new Error('http: body longer than its Content-Length');
      this.owed -= len;
    }
    if (this.chunked) this.out.push(chunkStart(len));
    this.out.push({ store: store, name: name, offset: offset, end: offset + len });
    if (this.chunked) this.out.push(CHUNK_END);
    this.out.pump();
    return true;
  }

  /** @internal moves waiting bytes on; true when none wait */
  pump(): boolean {
    return this.out.pump();
  }

  /** A view into a ring must go in at once (with framing), or not at all. */
  private fits(data: string | Uint8Array): boolean {
    if (typeof data === 'string' || data.buffer !== this.req.c.unsent.bytes.buffer || this.ownReceived(data)) return true;
    return this.out.empty && data.length + 12 <= this.req.c.unsent.free; // 12: chunk size line and CRLF
  }

  /** Whether `data` is a view into this connection's receive ring (which the server can keep still). */
  private ownReceived(data: string | Uint8Array): boolean {
    if (typeof data === 'string') return false;
    const r = this.req.c.recv.bytes;
    return data.buffer === r.buffer && data.byteOffset >= r.byteOffset && data.byteOffset + data.length <= r.byteOffset + r.length;
  }
}

function hasCloseToken(lines: string): boolean {
  const v = linesValue(lines, 'connection');
  return v !== null && hasToken(v, 'close');
}

/** Per-connection server state (`c.protocolState`). */
class ServerConn {
  readonly parser: HttpParser;
  req: HttpRequest | null = null;
  mode = BodyMode.NONE;
  bodyDone = false;
  /** An error response is out, or the server decided to close. */
  closing = false;
  /** When the head in progress started arriving (-1: none in progress). */
  headSince = -1;
  /** Last time bytes arrived, bytes left, or a response completed. */
  lastActive = 0;
  /** Set when the handler handed the connection to another protocol (WebSocket). */
  tunnel = false;
  /** Inside `drive` (user calls must not re-enter it). */
  busy = false;
  /** A BODY chunk the handler deferred waits at the ring's front. */
  held = false;
  counted = false;

  constructor(readonly server: HttpServer) {
    this.parser = new HttpParser(server.limits, true, newRequest);
  }
}

function newRequest(): HttpMessage {
  return new HttpRequest();
}

/** The listener's shared state (`listener.protocolState`). */
export class HttpServer {
  readonly limits: HttpLimits;
  /** Accepted connections alive now. */
  live = 0;
  /** Counters for tests and dashboards. */
  readonly stats = { requests: 0, rejected: 0, overflow: 0 };
  readonly scratch: () => Uint8Array;
  private readonly headerTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxConns: number;
  private readonly reserve: number;
  private readonly bufferBytes: number;
  private readonly pool: string;
  private fileBuffer: Uint8Array | null = null;

  constructor(
    private readonly mgr: Manager,
    opts: HttpServerOptions,
  ) {
    const l = opts.limits || {};
    this.limits = {
      headerBytes: l.headerBytes || DEFAULT_HTTP_LIMITS.headerBytes,
      headerCount: l.headerCount || DEFAULT_HTTP_LIMITS.headerCount,
      bodyBytes: l.bodyBytes === undefined ? DEFAULT_HTTP_LIMITS.bodyBytes : l.bodyBytes,
    };
    this.headerTimeoutMs = opts.headerTimeoutMs || 5000;
    this.idleTimeoutMs = opts.idleTimeoutMs || 30000;
    this.maxConns = opts.maxConns || Infinity;
    this.reserve = opts.reserveSlots === undefined ? 1 : opts.reserveSlots;
    this.bufferBytes = opts.bufferBytes === undefined ? Infinity : opts.bufferBytes;
    this.pool = opts.pool || 'default';
    const chunk = opts.fileChunkBytes || 512;
    const self = this;
    this.scratch = function () {
      if (!self.fileBuffer) self.fileBuffer = new Uint8Array(chunk); // once, on the first file sent
      return self.fileBuffer;
    };
  }

  /** The protocol handler every accepted connection gets. */
  readonly protocol: AnyHandler = (c: Connection, ev: number, data: any) => {
    if (c.flags & Flag.LISTENING) return;
    let s = c.protocolState as ServerConn | null;
    if (ev === Ev.ACCEPT) {
      s = new ServerConn(this);
      c.protocolState = s;
      this.accept(c, s);
      return;
    }
    if (!s) return;
    switch (ev) {
      case Ev.RECV:
        s.lastActive = c.now();
        this.drive(c, s);
        break;
      case Ev.SEND:
        s.lastActive = c.now();
        this.drive(c, s);
        break;
      case Ev.POLL:
        this.timeouts(c, s);
        this.drive(c, s);
        break;
      case Ev.CLOSE:
        this.forget(s);
        break;
    }
  };

  /**
   * Hands the connection to another protocol (a WebSocket) once the response
   * to `req` (a 101) is written: `protocol` and `state` become the
   * connection's and get every later event. It no longer counts as this
   * server's; whatever the client sent after the request stays in `c.recv`.
   */
  takeOver(req: HttpRequest, protocol: AnyHandler, state: unknown): void {
    const c = req.c;
    const s = c.protocolState as ServerConn;
    if (!(s instanceof ServerConn) || s.req !== req) throw new Error('http: takeOver of a request that is not current');
    this.forget(s);
    s.tunnel = true;
    s.req = null;
    c.protocol = protocol;
    c.protocolState = state;
  }

  private accept(c: Connection, s: ServerConn): void {
    this.live++;
    s.counted = true;
    s.lastActive = c.now();
    if (this.live > this.maxConns || this.mgr.freeSlots(this.pool) < this.reserve) {
      // Over the cap: this slot comes from the reserve; answer at once so it is free again soon.
      s.closing = true;
      this.stats.overflow++;
      c.handler = undefined; // the application never sees these
      c.send(statusLine(503) + 'Content-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n');
      c.end();
    }
  }

  private forget(s: ServerConn): void {
    if (s.counted) this.live--;
    s.counted = false;
  }

  private timeouts(c: Connection, s: ServerConn): void {
    if (s.closing) return;
    const now = c.now();
    if (s.req === null) {
      if (s.headSince >= 0 && now - s.headSince > this.headerTimeoutMs) this.reject(c, s, 408, 'request head too slow');
      else if (s.headSince < 0 && c.recv.length === 0 && now - s.lastActive > this.idleTimeoutMs) c.close();
    } else if (!s.bodyDone && now - s.lastActive > this.idleTimeoutMs) {
      this.reject(c, s, 408, 'request body stalled');
    } else if (c.unsent.length > 0 && now - s.lastActive > this.idleTimeoutMs) {
      c.close(); // the peer stopped reading our answer (a slow-read attack holds a slot forever otherwise)
    }
  }

  private drive(c: Connection, s: ServerConn): void {
    if (s.busy || s.closing) return;
    s.busy = true;
    try {
      this.step(c, s);
    } finally {
      s.busy = false;
    }
  }

  private step(c: Connection, s: ServerConn): void {
    const parser = s.parser;
    for (;;) {
      if (c.isClosing || s.closing || s.tunnel) return;
      const req = s.req;
      if (req === null) {
        if (c.recv.length === 0) return;
        const st = parser.next(c.recv);
        if (st === Step.MORE) {
          if (s.headSince < 0) s.headSince = c.now();
          return;
        }
        if (st !== Step.HEAD) {
          this.reject(c, s, parser.errorStatus || 400, parser.errorText);
          return;
        }
        s.headSince = -1;
        this.begin(c, s, parser.message as HttpRequest);
        continue;
      }
      const res = req.res;
      res.pump();
      if (res.wantWritable && res.writable) {
        res.wantWritable = false;
        c.emit(HttpEv.WRITABLE, req);
        continue;
      }
      if (s.bodyDone) {
        if (!res.finished) return;
        s.req = null;
        s.lastActive = c.now();
        if (res.closeAfter || !req.keepAlive) {
          s.closing = true;
          c.end();
          return;
        }
        continue;
      }
      if (s.mode === BodyMode.BUFFER) {
        // the parser decodes the body in place; END brings all of it
        const st = parser.next(c.recv);
        if (st === Step.MORE) return;
        if (st !== Step.END) {
          this.reject(c, s, parser.errorStatus || 400, parser.errorText);
          return;
        }
        s.bodyDone = true;
        req.body = ringView(c.recv, parser.dataLength);
        c.emit(HttpEv.MESSAGE, req);
        req.body = EMPTY;
        continue;
      }
      if (res.pinned) return; // the last chunk is being sent straight from the receive ring
      if (s.held) {
        // a deferred chunk, still at the ring's front: again once the send ring is empty
        if (c.unsent.length > 0) return;
        s.held = false;
        if (!this.deliverChunk(c, s, req)) return;
      }
      const st = parser.next(c.recv);
      if (st === Step.MORE) return;
      if (st === Step.DATA) {
        if (s.mode === BodyMode.STREAM && !this.deliverChunk(c, s, req)) return;
        continue;
      }
      if (st === Step.END) {
        s.bodyDone = true;
        if (s.mode === BodyMode.STREAM) c.emit(HttpEv.END, req);
        continue;
      }
      this.reject(c, s, parser.errorStatus || 400, parser.errorText);
      return;
    }
  }

  /** BODY for the chunk at the ring's front; false when the handler deferred it. */
  private deliverChunk(c: Connection, s: ServerConn, req: HttpRequest): boolean {
    req.chunk = c.recv.bytes.subarray(c.recv.start, c.recv.start + s.parser.dataLength);
    req.deferred = false;
    c.emit(HttpEv.BODY, req);
    req.chunk = EMPTY;
    if (!req.deferred) return true;
    s.held = true;
    return false;
  }

  /** A head arrived: HEADERS, then decide how its body travels. */
  private begin(c: Connection, s: ServerConn, req: HttpRequest): void {
    this.stats.requests++;
    req.c = c;
    req.res = new HttpResponse(req, s);
    s.req = req;
    s.bodyDone = false;
    s.mode = BodyMode.NONE;
    c.emit(HttpEv.HEADERS, req);
    if (s.tunnel || c.isClosing) return;
    const res = req.res;
    const kind = req.bodyKind;
    if (req.streamed) {
      s.mode = BodyMode.STREAM;
      if (kind !== BodyKind.NONE) this.sendContinue(c, req);
      return;
    }
    if (res.started) {
      // Answered at HEADERS: drop the body, or close instead when it may be large.
      s.mode = BodyMode.DISCARD;
      if (kind === BodyKind.CHUNKED || (kind === BodyKind.LENGTH && req.contentLength > this.bufferFor(c))) res.closeAfter = true;
      return;
    }
    if (kind === BodyKind.NONE) {
      s.parser.next(c.recv); // END
      s.bodyDone = true;
      c.emit(HttpEv.MESSAGE, req);
      return;
    }
    const room = this.bufferFor(c);
    if (kind === BodyKind.CHUNKED || req.contentLength <= room) {
      // small enough to arrive whole (a chunked body is refused by the parser once it outgrows the room)
      s.mode = BodyMode.BUFFER;
      s.parser.keep = true;
      s.parser.keepLimit = room;
      this.sendContinue(c, req);
      return;
    }
    this.reject(c, s, 413, 'body too large to buffer and the handler did not stream it');
  }

  /** Largest body delivered whole: `bufferBytes`, within the receive ring less room for framing to keep flowing. */
  private bufferFor(c: Connection): number {
    const cap = c.recv.capacity - BUFFER_SLACK;
    return this.bufferBytes < cap ? this.bufferBytes : cap;
  }

  private sendContinue(c: Connection, req: HttpRequest): void {
    if (req.expectContinue && req.version === 11 && !req.res.started) c.send('HTTP/1.1 100 Continue\r\n\r\n');
  }

  /** Answers `status` with Connection: close, and closes once it is sent. */
  private reject(c: Connection, s: ServerConn, status: number, why: string): void {
    this.stats.rejected++;
    s.closing = true;
    const req = s.req;
    c.emit(HttpEv.REJECTED, status);
    if (req && req.res.started) {
      c.close(); // a response is already on its way: no clean way to answer
      return;
    }
    const body = reasonPhrase(status) + (why ? ': ' + why : '') + '\n';
    c.send(statusLine(status) + 'Content-Type: text/plain\r\nContent-Length: ' + body.length + '\r\nConnection: close\r\n\r\n' + body);
    c.end();
  }
}

/** What a server handler receives: the core events plus these. */
export interface HttpServerEvents extends CoreEvents {
  [HttpEv.HEADERS]: HttpRequest;
  [HttpEv.BODY]: HttpRequest;
  [HttpEv.END]: HttpRequest;
  [HttpEv.MESSAGE]: HttpRequest;
  [HttpEv.WRITABLE]: HttpRequest;
  [HttpEv.REJECTED]: number;
}

/** Handler type for `httpListen`. */
export type HttpHandler = Handler<HttpServerEvents>;

/**
 * Serves HTTP on `http://host:port` (or `https://`, with `opts.tls`); also
 * `tcp://`, `:port`. Returns the listening connection (its `protocolState`
 * is the `HttpServer`). A bad address throws.
 */
export function httpListen(mgr: Manager, url: string, handler: HttpHandler, opts?: HttpServerOptions): Connection | null {
  const o = opts || {};
  const ep = parseAddress(url, '0.0.0.0', { http: 80, https: 443 });
  const secure = ep.scheme === 'https' || ep.scheme === 'tls';
  if (ep.scheme !== 'http' && ep.scheme !== 'https' && ep.scheme !== 'tcp' && ep.scheme !== 'tls') throw new Error('httpListen: unsupported scheme ' + ep.scheme);
  const at: Endpoint = { scheme: secure ? 'tls' : 'tcp', host: ep.host, port: ep.port, path: ep.path };
  const server = new HttpServer(mgr, o);
  return mgr.listen(at, handler as AnyHandler, { pool: o.pool, tls: secure ? o.tls || {} : undefined, protocol: server.protocol, state: server });
}

/** The `HttpServer` of a connection made by `httpListen` (listener or accepted), or null. */
export function httpServerOf(c: Connection): HttpServer | null {
  const s = c.protocolState;
  if (s instanceof HttpServer) return s;
  if (s instanceof ServerConn) return s.server;
  return null;
}
