/**
 * HTTP/1.1 message codec (RFC 9112): a pure, incremental parser that reads
 * requests or responses straight from a connection's receive ring, and the
 * few formatting helpers a writer needs. No I/O and no timers.
 *
 * The parser never copies a body: it reports where body bytes sit at the
 * front of the ring, and drops them on the next call. Every limit is applied
 * from what the peer declares, before anything is read: a head over
 * `headerBytes` or with more than `headerCount` fields is 431, a declared
 * body over `bodyBytes` is 413. Framing that two parsers could read two ways
 * (request smuggling) is refused with 400: Content-Length together with
 * Transfer-Encoding, more than one Content-Length, a CR or LF that is not part
 * of a CRLF, folded header lines, malformed names, bad chunk sizes.
 */
import type { Ring } from '../../core/ring.js';
import { ringMove, ringText } from '../../core/bytes.js';
import { indexOfText } from '../../core/text.js';

/** Bounds on what a peer may send (a board profile carries them). */
export interface HttpLimits {
  /** Request/status line plus header fields, CRLFs included. */
  headerBytes: number;
  /** Header fields in one head (and trailer fields after a chunked body). */
  headerCount: number;
  /** Largest body accepted, declared or (chunked) summed. */
  bodyBytes: number;
}

/** Sizes for a small device; Node servers usually pass larger ones. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = { headerBytes: 2048, headerCount: 24, bodyBytes: 16384 };

/** How the body of a message is delimited. */
export const enum BodyKind {
  NONE = 0,
  LENGTH = 1,
  CHUNKED = 2,
  /** A response without a length: the body ends when the connection does. */
  UNTIL_CLOSE = 3,
}

/** What `HttpParser.next()` found. */
export const enum Step {
  /** Nothing complete yet: call again after more bytes arrive. */
  MORE = 0,
  /** A head was parsed and removed from the ring: `parser.message`. */
  HEAD = 1,
  /** `parser.dataLength` body bytes sit contiguously at the ring's front until the next call. */
  DATA = 2,
  /** The message's body is complete; the next call looks for a new head. */
  END = 3,
  /** The input is refused: `parser.errorStatus`, `parser.errorText`. The parser stays in this state. */
  ERROR = 4,
}

const enum State {
  HEAD = 0,
  LENGTH = 1,
  CHUNK_SIZE = 2,
  CHUNK_EXT = 3,
  CHUNK_SIZE_LF = 4,
  CHUNK_DATA = 5,
  CHUNK_DATA_CR = 6,
  CHUNK_DATA_LF = 7,
  TRAILER_LINE_START = 8,
  TRAILER_LINE = 9,
  TRAILER_LINE_LF = 10,
  TRAILER_END_LF = 11,
  UNTIL_CLOSE = 12,
  /** A body-less message was parsed; the next call ends it. */
  BODY_NONE = 13,
  ERROR = 14,
}

/** What a Transfer-Encoding list amounts to. */
const enum Codings {
  CHUNKED = 0,
  OTHERS_THEN_CHUNKED = 1,
  NOT_CHUNKED = 2,
  MALFORMED = 3,
}

const CR = 13;
const LF = 10;

/** Bytes of the character-class table (tchar, Host), allocated once when the codec loads (the device budget counts it). */
export const TOKEN_TABLE_BYTES = 128;

/**
 * Character classes for every byte below 128: bit 1 tchar (RFC 9110 5.6.2),
 * bit 2 a reg-name character other than "%" (RFC 3986 unreserved and
 * sub-delims).
 */
const TOKEN = /*#__PURE__*/ (function () {
  const t = new Uint8Array(TOKEN_TABLE_BYTES);
  const tchar = "!#$%&'*+-.^_`|~";
  const host = "-._~!$&'()*+,;=";
  for (let c = 48; c <= 57; c++) t[c] = 3;
  for (let c = 65; c <= 90; c++) t[c] = 3;
  for (let c = 97; c <= 122; c++) t[c] = 3;
  for (let i = 0; i < tchar.length; i++) t[tchar.charCodeAt(i)] |= 1;
  for (let i = 0; i < host.length; i++) t[host.charCodeAt(i)] |= 2;
  return t;
})();

/** Whether `s` is a non-empty token (methods, header names, codings). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || !(TOKEN[c] & 1)) return false;
  }
  return true;
}

/** Field values: visible ASCII, obs-text, SP and HTAB; no other control byte. */
function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.substring(a, b);
}

/** Does the comma-separated `list` hold `token` (lower-case), in any case? */
export function hasToken(list: string, token: string): boolean {
  const l = list.toLowerCase();
  let at = 0;
  while (at <= l.length) {
    let end = l.indexOf(',', at);
    if (end < 0) end = l.length;
    if (trimOws(l.substring(at, end)) === token) return true;
    at = end + 1;
  }
  return false;
}

/** A parsed request or response head. Header names are kept lower-case. */
export class HttpMessage {
  /** Request: method, request-target, and the target split at "?". */
  method = '';
  target = '';
  path = '';
  query = '';
  /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
  version = 11;
  /** Response: status code and reason phrase. */
  status = 0;
  reason = '';
  /** Header names (lower-case) and values, in arrival order, OWS trimmed. */
  readonly names: string[] = [];
  readonly values: string[] = [];
  bodyKind: BodyKind = BodyKind.NONE;
  /** The declared Content-Length, or -1. */
  contentLength = -1;
  /** Whether the connection may carry another message after this one. */
  keepAlive = true;
  /** Request: "Expect: 100-continue". */
  expectContinue = false;

  /** The first value of header `name` (any case), or undefined. */
  header(name: string): string | undefined {
    const want = name.toLowerCase();
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === want) return this.values[i];
    return undefined;
  }

  /**
   * Every value of header `name`, joined with ", " as RFC 9110 allows for
   * lists (an empty field line still adds its comma, so a repeated
   * single-valued field never reads as one value); "" when absent.
   */
  headerList(name: string): string {
    const want = name.toLowerCase();
    let out: string | null = null;
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] !== want) continue;
      out = out === null ? this.values[i] : out + ', ' + this.values[i];
    }
    return out === null ? '' : out;
  }
}

/** Parses a Content-Length value: -1 when malformed, Infinity when too large to matter. */
function contentLengthOf(v: string): number {
  if (v.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return v.length > 15 ? Infinity : n;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Whether `v` is a Host value (RFC 9112 3.2, RFC 3986 3.2.2): a reg-name
 * (percent-encoding allowed) or IPv4 address, or an IP literal in brackets,
 * then an optional ":" and digits. Empty is allowed (an empty authority).
 */
function isHost(v: string): boolean {
  const literal = v.charCodeAt(0) === 91; // "[" IPv6 or IPvFuture "]"
  let end = v.indexOf(literal ? ']' : ':');
  if (literal && end < 2) return false;
  if (end < 0) end = v.length;
  for (let i = literal ? 1 : 0; i < end; i++) {
    const c = v.charCodeAt(i);
    if (c === 37 && hexValue(v.charCodeAt(i + 1)) >= 0 && hexValue(v.charCodeAt(i + 2)) >= 0) i += 2;
    else if (c >= 128 || (!(TOKEN[c] & 2) && !(literal && c === 58))) return false;
  }
  let at = literal ? end + 1 : end;
  if (at < v.length && v.charCodeAt(at++) !== 58) return false;
  for (; at < v.length; at++) {
    const c = v.charCodeAt(at);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Incremental parser for one direction of one connection. Feed it the ring
 * the bytes arrive in, call `next()` until it says MORE, and call it again on
 * the next RECV. Safe at every split of the input.
 */
export class HttpParser {
  /** The last head parsed (valid from HEAD until the next HEAD). */
  message: HttpMessage = new HttpMessage();
  /** Body bytes at the ring's front after DATA (and after END in keep mode). */
  dataLength = 0;
  /** Set with ERROR: the status a server should answer (400, 413, 414, 431, 501, 505). */
  errorStatus = 0;
  errorText = '';
  /** Response parsing: the request was HEAD, so no body follows whatever the head says. */
  noBody = false;
  /**
   * Keep mode, set by the caller right after HEAD: the body is not handed out
   * in DATA steps but decoded in place at the ring's front (chunk framing cut
   * out), and END reports its length in `dataLength`. A chunked body over
   * `keepLimit` is refused with 413. The ring must have room for the body.
   */
  keep = false;
  keepLimit = Infinity;
  /** Keep mode: decoded body bytes held at the ring's front so far. */
  private kept = 0;
  /** Bytes dropped for the next call: the body bytes handed out by the last DATA or END (a kept body with the framing gap after it). */
  private pending = 0;
  private state = State.HEAD;
  /** Head scan: next offset to search for LF, start of the current line, lines seen. */
  private scanAt = 0;
  private lineStart = 0;
  private lines = 0;
  /** Body state. */
  private remaining = 0;
  private bodyTotal = 0;
  private digits = 0;
  private chunkSize = 0;
  private lineBytes = 0;
  private trailerLines = 0;

  /**
   * @param limits bounds applied to every message
   * @param isRequest parse requests (a server) or responses (a client)
   * @param create makes the object a head is parsed into (a server passes its request class)
   */
  constructor(
    readonly limits: HttpLimits,
    readonly isRequest: boolean,
    private readonly create?: () => HttpMessage,
  ) {}

  /** Whether the parser is between messages with nothing of the next one seen. */
  get idle(): boolean {
    return this.state === State.HEAD && this.scanAt === 0;
  }

  /** Whether a head has been parsed and its body is not yet complete. */
  get inBody(): boolean {
    return this.state !== State.HEAD && this.state !== State.ERROR;
  }

  /** Advances over what `ring` holds; see `Step`. */
  next(ring: Ring): Step {
    if (this.pending > 0) {
      ring.discard(this.pending);
      this.pending = 0;
    }
    this.dataLength = 0;
    switch (this.state) {
      case State.HEAD:
        return this.head(ring);
      case State.BODY_NONE:
        return this.end();
      case State.LENGTH:
        return this.lengthBody(ring);
      case State.UNTIL_CLOSE:
        return this.data(ring, ring.length);
      case State.ERROR:
        return Step.ERROR;
      default:
        return this.chunked(ring);
    }
  }

  /**
   * The connection ended. Returns END when that completes the message (a
   * response delimited by close), MORE when nothing was in progress, else
   * ERROR (the message was cut short).
   */
  finish(): Step {
    if (this.state === State.UNTIL_CLOSE) return this.end();
    if (this.state === State.HEAD && this.scanAt === 0) return Step.MORE;
    if (this.state === State.ERROR) return Step.ERROR;
    return this.fail(400, 'connection closed inside a message');
  }

  /** Forgets any message in progress (and an error). */
  reset(): void {
    this.keep = false;
    this.kept = 0;
    this.state = State.HEAD;
    this.scanAt = 0;
    this.lineStart = 0;
    this.lines = 0;
    this.pending = 0;
    this.dataLength = 0;
    this.errorStatus = 0;
    this.errorText = '';
  }

  /** `fail` for checks that answer "refused?": always true. */
  private refuse(status: number, text: string): boolean {
    this.fail(status, text);
    return true;
  }

  private fail(status: number, text: string): Step {
    this.state = State.ERROR;
    this.errorStatus = status;
    this.errorText = text;
    return Step.ERROR;
  }

  private end(): Step {
    this.state = State.HEAD;
    this.scanAt = 0;
    this.lineStart = 0;
    this.lines = 0;
    if (this.keep) {
      // the whole body waits at the ring's front, until the next call
      this.dataLength = this.kept;
      this.pending = this.kept;
      this.kept = 0;
      this.keep = false;
    }
    return Step.END;
  }

  private data(ring: Ring, most: number): Step {
    let n = ring.contiguousLength();
    if (most < n) n = most;
    if (n <= 0) return Step.MORE;
    this.dataLength = n;
    this.pending = n;
    return Step.DATA;
  }

  private lengthBody(ring: Ring): Step {
    if (this.keep) {
      let n = ring.length - this.kept;
      if (n > this.remaining) n = this.remaining;
      this.kept += n;
      this.remaining -= n;
    }
    if (this.remaining === 0) return this.end();
    if (this.keep) return Step.MORE;
    const step = this.data(ring, this.remaining);
    if (step === Step.DATA) this.remaining -= this.dataLength;
    return step;
  }

  // ---- head ----

  /** Finds the end of the head line by line (so limits apply as lines arrive), then parses it. */
  private head(ring: Ring): Step {
    const lim = this.limits;
    for (;;) {
      const lf = ring.find(LF, this.scanAt);
      if (lf < 0) {
        this.scanAt = ring.length;
        if (ring.length > lim.headerBytes || ring.free === 0) return this.tooLarge();
        return Step.MORE;
      }
      if (lf === 0 || ring.peek(lf - 1) !== CR) return this.fail(400, 'line ends in a bare LF');
      if (lf + 1 > lim.headerBytes) return this.tooLarge();
      if (lf - 1 === this.lineStart) {
        if (this.lines === 0) {
          // RFC 9112 2.2: empty lines before a request line are ignored.
          ring.discard(lf + 1);
          this.scanAt = 0;
          this.lineStart = 0;
          continue;
        }
        const size = lf + 1;
        this.scanAt = 0;
        this.lineStart = 0;
        this.lines = 0;
        const step = this.parseHead(ringText(ring, 0, size - 2));
        if (step === Step.HEAD) ring.discard(size);
        return step;
      }
      this.lines++;
      if (this.lines - 1 > lim.headerCount) return this.fail(431, 'too many header fields');
      this.lineStart = lf + 1;
      this.scanAt = lf + 1;
    }
  }

  private tooLarge(): Step {
    return this.lines === 0 ? this.fail(this.isRequest ? 414 : 431, 'request line too long') : this.fail(431, 'header fields too large');
  }

  /** `s`: the head without its final empty line; every line ends in CRLF. */
  private parseHead(s: string): Step {
    const m = this.create ? this.create() : new HttpMessage();
    this.message = m;
    let eol = indexOfText(s, '\r\n');
    const first = s.substring(0, eol);
    if (first.indexOf('\r') >= 0) return this.fail(400, 'stray CR');
    const bad = this.isRequest ? this.requestLine(m, first) : this.statusLine(m, first);
    if (bad) return Step.ERROR;
    let at = eol + 2;
    let contentLength = -1;
    let lengthSeen = false;
    let transfer: string | null = null;
    let hosts = 0;
    let close = false;
    let keepAliveToken = false;
    while (at < s.length) {
      eol = indexOfText(s, '\r\n', at);
      const line = s.substring(at, eol);
      at = eol + 2;
      const c0 = line.charCodeAt(0);
      if (c0 === 32 || c0 === 9) return this.fail(400, 'folded header line (obs-fold)');
      if (line.indexOf('\r') >= 0) return this.fail(400, 'stray CR');
      const colon = line.indexOf(':');
      if (colon <= 0) return this.fail(400, 'header line without a name and ":"');
      const rawName = line.substring(0, colon);
      if (!isToken(rawName)) return this.fail(400, 'bad header name');
      const value = trimOws(line.substring(colon + 1));
      if (!isFieldValue(value)) return this.fail(400, 'control character in a header value');
      const name = rawName.toLowerCase();
      m.names.push(name);
      m.values.push(value);
      switch (name) {
        case 'content-length':
          if (lengthSeen) return this.fail(400, 'more than one Content-Length');
          lengthSeen = true;
          contentLength = contentLengthOf(value);
          if (contentLength < 0) return this.fail(400, 'malformed Content-Length');
          break;
        case 'transfer-encoding':
          transfer = transfer === null ? value : transfer + ',' + value;
          break;
        case 'connection':
          if (hasToken(value, 'close')) close = true;
          if (hasToken(value, 'keep-alive')) keepAliveToken = true;
          break;
        case 'host':
          hosts++;
          if (this.isRequest && !isHost(value)) return this.fail(400, 'invalid Host');
          break;
        case 'expect':
          if (value.toLowerCase() === '100-continue') m.expectContinue = true;
          break;
      }
    }
    m.keepAlive = !close && (m.version === 11 || keepAliveToken);
    return this.isRequest ? this.requestFraming(m, hosts, transfer, lengthSeen, contentLength) : this.responseFraming(m, transfer, lengthSeen, contentLength);
  }

  /** Returns true (after failing) when the line is refused. */
  private requestLine(m: HttpMessage, line: string): boolean {
    const sp1 = line.indexOf(' ');
    const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) return this.refuse(400, 'malformed request line');
    const method = line.substring(0, sp1);
    if (!isToken(method)) return this.refuse(400, 'bad method');
    const target = line.substring(sp1 + 1, sp2);
    if (target.length === 0) return this.refuse(400, 'empty request target');
    for (let i = 0; i < target.length; i++) {
      const c = target.charCodeAt(i);
      if (c <= 32 || c >= 127) return this.refuse(400, 'bad character in request target');
    }
    const version = this.version(line.substring(sp2 + 1));
    if (version < 0) return true;
    m.method = method;
    m.target = target;
    m.version = version;
    let path = target;
    if (path.charCodeAt(0) !== 47 && path !== '*') {
      // absolute-form ("http://host/p"): the origin server only needs the path
      const scheme = indexOfText(path, '://');
      if (scheme > 0) {
        const slash = path.indexOf('/', scheme + 3);
        path = slash < 0 ? '/' : path.substring(slash);
      }
    }
    const q = path.indexOf('?');
    m.path = q < 0 ? path : path.substring(0, q);
    m.query = q < 0 ? '' : path.substring(q + 1);
    return false;
  }

  private statusLine(m: HttpMessage, line: string): boolean {
    const sp = line.indexOf(' ');
    if (sp < 0) return this.refuse(400, 'malformed status line');
    const version = this.version(line.substring(0, sp));
    if (version < 0) return true;
    const code = line.substring(sp + 1, sp + 4);
    let status = 0;
    for (let i = 0; i < code.length; i++) {
      const c = code.charCodeAt(i);
      if (c < 48 || c > 57) return this.refuse(400, 'malformed status code');
      status = status * 10 + (c - 48);
    }
    if (code.length !== 3 || status < 100) return this.refuse(400, 'malformed status code');
    if (line.length > sp + 4 && line.charCodeAt(sp + 4) !== 32) return this.refuse(400, 'malformed status line');
    const reason = line.substring(sp + 5);
    if (!isFieldValue(reason)) return this.refuse(400, 'control character in reason phrase');
    m.version = version;
    m.status = status;
    m.reason = reason;
    return false;
  }

  /** 11 or 10; else fails (505 for another HTTP version, 400 for garbage) and returns -1. */
  private version(v: string): number {
    if (v === 'HTTP/1.1') return 11;
    if (v === 'HTTP/1.0') return 10;
    const d1 = v.charCodeAt(5);
    const d2 = v.charCodeAt(7);
    if (v.length === 8 && v.substring(0, 5) === 'HTTP/' && v.charAt(6) === '.' && d1 >= 48 && d1 <= 57 && d2 >= 48 && d2 <= 57) {
      this.fail(505, 'HTTP version not supported');
    } else {
      this.fail(400, 'malformed HTTP version');
    }
    return -1;
  }

  /** RFC 9112 6.1–6.3 for requests, without the lenient options. */
  private requestFraming(m: HttpMessage, hosts: number, transfer: string | null, lengthSeen: boolean, length: number): Step {
    if (hosts > 1 || (hosts === 0 && m.version === 11)) return this.fail(400, hosts ? 'more than one Host' : 'missing Host');
    if (transfer !== null) {
      if (lengthSeen) return this.fail(400, 'both Content-Length and Transfer-Encoding');
      if (m.version === 10) return this.fail(400, 'Transfer-Encoding in an HTTP/1.0 request');
      const codings = this.codings(transfer);
      if (codings === Codings.MALFORMED) return this.fail(400, 'malformed Transfer-Encoding');
      if (codings === Codings.NOT_CHUNKED) return this.fail(400, 'chunked is not the final transfer coding');
      if (codings === Codings.OTHERS_THEN_CHUNKED) return this.fail(501, 'unsupported transfer coding');
      return this.startBody(m, BodyKind.CHUNKED, -1);
    }
    if (lengthSeen) {
      if (length > this.limits.bodyBytes) return this.fail(413, 'declared body larger than ' + this.limits.bodyBytes + ' bytes');
      return this.startBody(m, length > 0 ? BodyKind.LENGTH : BodyKind.NONE, length);
    }
    return this.startBody(m, BodyKind.NONE, -1);
  }

  /** RFC 9112 6.3 for responses; the status and the request method decide first. */
  private responseFraming(m: HttpMessage, transfer: string | null, lengthSeen: boolean, length: number): Step {
    const s = m.status;
    if (this.noBody || s < 200 || s === 204 || s === 304) return this.startBody(m, BodyKind.NONE, lengthSeen ? length : -1);
    if (transfer !== null) {
      if (lengthSeen) return this.fail(400, 'both Content-Length and Transfer-Encoding');
      const codings = this.codings(transfer);
      if (codings === Codings.MALFORMED) return this.fail(400, 'malformed Transfer-Encoding');
      if (codings === Codings.OTHERS_THEN_CHUNKED) return this.fail(501, 'unsupported transfer coding');
      if (codings === Codings.NOT_CHUNKED) {
        // RFC 9112 6.3: a response whose final coding is not chunked is delimited by close
        m.keepAlive = false;
        return this.startBody(m, BodyKind.UNTIL_CLOSE, -1);
      }
      return this.startBody(m, BodyKind.CHUNKED, -1);
    }
    if (lengthSeen) {
      if (length > this.limits.bodyBytes) return this.fail(413, 'declared body larger than ' + this.limits.bodyBytes + ' bytes');
      return this.startBody(m, length > 0 ? BodyKind.LENGTH : BodyKind.NONE, length);
    }
    m.keepAlive = false;
    return this.startBody(m, BodyKind.UNTIL_CLOSE, -1);
  }

  /** Reads a Transfer-Encoding list: see `Codings`. */
  private codings(list: string): Codings {
    const l = list.toLowerCase();
    let others = 0;
    let chunked = 0;
    let last = '';
    let at = 0;
    while (at <= l.length) {
      let end = l.indexOf(',', at);
      if (end < 0) end = l.length;
      const coding = trimOws(l.substring(at, end));
      at = end + 1;
      if (coding.length === 0) continue; // empty list elements are allowed
      // a coding may carry parameters ("gzip;q=1"); only its name matters here
      const semi = coding.indexOf(';');
      const name = semi < 0 ? coding : trimOws(coding.substring(0, semi));
      if (!isToken(name) || (name === 'chunked' && semi >= 0)) return Codings.MALFORMED;
      if (name === 'chunked') chunked++;
      else others++;
      last = name;
    }
    if (chunked > 1) return Codings.MALFORMED;
    if (last !== 'chunked') return Codings.NOT_CHUNKED;
    return others > 0 ? Codings.OTHERS_THEN_CHUNKED : Codings.CHUNKED;
  }

  /** One byte of a trailer line; false (failed) when refused. */
  private trailerByte(b: number): boolean {
    if (b === CR) this.state = State.TRAILER_LINE_LF;
    else if (b === LF || (b < 32 && b !== 9) || b === 127) return !this.refuse(400, 'control character in a trailer');
    else if (++this.lineBytes > this.limits.headerBytes) return !this.refuse(431, 'trailer fields too large');
    return true;
  }

  private startBody(m: HttpMessage, kind: BodyKind, length: number): Step {
    m.bodyKind = kind;
    m.contentLength = length;
    this.bodyTotal = 0;
    this.keep = false;
    this.kept = 0;
    switch (kind) {
      case BodyKind.NONE:
        this.state = State.BODY_NONE;
        break;
      case BodyKind.LENGTH:
        this.state = State.LENGTH;
        this.remaining = length;
        break;
      case BodyKind.CHUNKED:
        this.state = State.CHUNK_SIZE;
        this.digits = 0;
        this.chunkSize = 0;
        break;
      default:
        this.state = State.UNTIL_CLOSE;
    }
    return Step.HEAD;
  }

  // ---- chunked body (RFC 9112 7.1), one framing byte at a time ----

  private chunked(ring: Ring): Step {
    const lim = this.limits;
    // Framing bytes parsed but not yet removed: a gap after the kept body. Chunk data moves up over it (each
    // byte once); the gap itself is dropped when it is all that follows, or goes with the body at END.
    let skip = 0;
    for (;;) {
      if (this.state === State.CHUNK_DATA) {
        if (this.remaining > 0) {
          if (skip > 0 && this.kept === 0) {
            ring.discard(skip);
            skip = 0;
          }
          if (!this.keep) {
            const step = this.data(ring, this.remaining);
            if (step === Step.DATA) this.remaining -= this.dataLength;
            return step;
          }
          let n = ring.length - this.kept - skip;
          if (n <= 0) break;
          if (n > this.remaining) n = this.remaining;
          if (skip > 0) ringMove(ring, this.kept, this.kept + skip, n);
          this.kept += n;
          this.remaining -= n;
          continue;
        }
        this.state = State.CHUNK_DATA_CR;
      }
      const at = this.kept + skip;
      if (at >= ring.length) break;
      const b = ring.peek(at);
      skip++;
      switch (this.state) {
        case State.CHUNK_SIZE: {
          const v = hexValue(b);
          if (v >= 0) {
            if (++this.digits > 16) return this.fail(400, 'chunk size too long');
            this.chunkSize = this.chunkSize * 16 + v;
            if (this.chunkSize > this.bodyLimit()) return this.fail(413, 'chunk larger than the body limit');
          } else if (this.digits > 0 && b === 59) {
            this.state = State.CHUNK_EXT;
            this.lineBytes = 0;
          } else if (this.digits > 0 && b === CR) {
            this.state = State.CHUNK_SIZE_LF;
          } else {
            return this.fail(400, 'bad chunk size');
          }
          break;
        }
        case State.CHUNK_EXT:
          if (b === CR) this.state = State.CHUNK_SIZE_LF;
          else if ((b < 32 && b !== 9) || b === 127) return this.fail(400, 'control character in a chunk extension');
          else if (++this.lineBytes > lim.headerBytes) return this.fail(400, 'chunk extension too long');
          break;
        case State.CHUNK_SIZE_LF:
          if (b !== LF) return this.fail(400, 'chunk size line without LF');
          if (this.chunkSize === 0) {
            this.state = State.TRAILER_LINE_START;
            this.trailerLines = 0;
            this.lineBytes = 0;
          } else {
            this.bodyTotal += this.chunkSize;
            if (this.bodyTotal > this.bodyLimit()) return this.fail(413, 'chunked body larger than ' + this.bodyLimit() + ' bytes');
            this.remaining = this.chunkSize;
            this.state = State.CHUNK_DATA;
          }
          break;
        case State.CHUNK_DATA_CR:
          if (b !== CR) return this.fail(400, 'chunk data longer than its size');
          this.state = State.CHUNK_DATA_LF;
          break;
        case State.CHUNK_DATA_LF:
          if (b !== LF) return this.fail(400, 'chunk data without CRLF');
          this.state = State.CHUNK_SIZE;
          this.digits = 0;
          this.chunkSize = 0;
          break;
        case State.TRAILER_LINE_START:
          if (b === CR) {
            this.state = State.TRAILER_END_LF;
            break;
          }
          if (b === 32 || b === 9) return this.fail(400, 'folded trailer line (obs-fold)');
          if (++this.trailerLines > lim.headerCount) return this.fail(431, 'too many trailer fields');
          this.state = State.TRAILER_LINE;
          if (!this.trailerByte(b)) return Step.ERROR;
          break;
        case State.TRAILER_LINE:
          if (!this.trailerByte(b)) return Step.ERROR;
          break;
        case State.TRAILER_LINE_LF:
          if (b !== LF) return this.fail(400, 'stray CR in a trailer');
          this.state = State.TRAILER_LINE_START;
          break;
        case State.TRAILER_END_LF: {
          if (b !== LF) return this.fail(400, 'stray CR after the last chunk');
          // what follows may be the next message: a gap after a kept body is dropped with it on the next call
          const gap = this.kept > 0 ? skip : 0;
          if (gap === 0) ring.discard(skip);
          const step = this.end();
          this.pending += gap;
          return step;
        }
      }
    }
    // Everything held was parsed, so the gap is the last bytes held: dropped from the tail, the kept body stays put.
    if (this.kept === 0) ring.discard(skip);
    else ring.commit(-skip);
    return Step.MORE;
  }

  /** The body limit in force: the buffer's size while keeping, else `limits.bodyBytes`. */
  private bodyLimit(): number {
    return this.keep && this.keepLimit < this.limits.bodyBytes ? this.keepLimit : this.limits.bodyBytes;
  }
}

// ---- writing ----

/** Headers to write: an object (values are written as given) or ready "Name: value\r\n" lines. */
export type HttpHeaders = { [name: string]: string | number } | string;

const REASONS: { [code: number]: string } = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] || 'Status ' + status;
}

/**
 * Header lines for `headers`, each ending in CRLF. A name that is not a token
 * or a value holding CR, LF or NUL throws: writing it would let a value inject
 * header lines (response splitting).
 */
export function headerLines(headers: HttpHeaders | undefined): string {
  if (!headers) return '';
  if (typeof headers === 'string') {
    if (headers.length === 0) return '';
    if (headers.substring(headers.length - 2) !== '\r\n') throw new Error('header lines must end in CRLF');
    return headers;
  }
  let out = '';
  const names = Object.keys(headers);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = String(headers[name]);
    if (!isToken(name)) throw new Error('bad header name "' + name + '"');
    if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) throw new Error('bad value for header ' + name);
    out += name + ': ' + value + '\r\n';
  }
  return out;
}

/** Whether `lines` (from `headerLines`) set header `name` (lower-case). */
export function linesHave(lines: string, name: string): boolean {
  if (lines.length === 0) return false;
  const l = lines.toLowerCase();
  let at = 0;
  while (at < l.length) {
    const colon = l.indexOf(':', at);
    if (colon < 0) return false;
    if (l.substring(at, colon) === name) return true;
    const eol = indexOfText(l, '\r\n', colon);
    if (eol < 0) return false;
    at = eol + 2;
  }
  return false;
}

/** The value of header `name` (lower-case) in `lines`, or null. */
export function linesValue(lines: string, name: string): string | null {
  const l = lines.toLowerCase();
  let at = 0;
  while (at < l.length) {
    const colon = l.indexOf(':', at);
    if (colon < 0) return null;
    const eol = indexOfText(l, '\r\n', colon);
    if (eol < 0) return null;
    if (l.substring(at, colon) === name) return trimOws(lines.substring(colon + 1, eol));
    at = eol + 2;
  }
  return null;
}

/** "HTTP/1.1 200 OK\r\n". */
export function statusLine(status: number, reason?: string): string {
  return 'HTTP/1.1 ' + status + ' ' + (reason || reasonPhrase(status)) + '\r\n';
}

/** The line that starts a chunk of `n` bytes. */
export function chunkStart(n: number): string {
  return n.toString(16) + '\r\n';
}

/** Ends the last chunk's data, or follows a chunk's data. */
export const CHUNK_END = '\r\n';
/** The zero-size chunk and the empty trailer that end a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';
