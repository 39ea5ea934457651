/**
 * What both directions of the HTTP codec share: the limits, the parsed
 * message, and the character classes of RFC 9110 (tokens, field values).
 */

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
export enum BodyKind {
  NONE = 0,
  LENGTH = 1,
  CHUNKED = 2,
  /** A response without a length: the body ends when the connection does. */
  UNTIL_CLOSE = 3,
}

/** What `HttpParser.next()` found. */
export enum Step {
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

export const CR = 13;
export const LF = 10;

/** Bytes of the character-class table (tchar, Host), allocated once when the codec loads (the device budget counts it). */
export const TOKEN_TABLE_BYTES = 128;

/**
 * Character classes for every byte below 128: bit 1 tchar (RFC 9110 5.6.2),
 * bit 2 a reg-name character other than "%" (RFC 3986 unreserved and
 * sub-delims).
 */
export const TOKEN = /*#__PURE__*/ (function () {
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
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

export function trimOws(s: string): string {
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

export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
