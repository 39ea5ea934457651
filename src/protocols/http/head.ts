/**
 * The head of an HTTP/1.1 message (RFC 9112 2-5): the request or status line
 * and the header fields, read from one string the parser cut out of the
 * ring. Refusals go through the parser (`p.fail`), which then stays in ERROR;
 * the body's framing is decided in body.ts.
 */
import { indexOfText } from '../../core/text.js';
import { requestFraming, responseFraming } from './body.js';
import type { ParserState } from './parser-state.js';
import { hasToken, hexValue, isFieldValue, isToken, trimOws, HttpMessage, Step, TOKEN } from './message.js';

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

/** `s`: the head without its final empty line; every line ends in CRLF. */
export function parseHead(p: ParserState, m: HttpMessage, s: string): Step {
  let eol = indexOfText(s, '\r\n');
  const first = s.substring(0, eol);
  if (first.indexOf('\r') >= 0) return p.fail(400, 'stray CR');
  const bad = p.isRequest ? parseRequestLine(p, m, first) : parseStatusLine(p, m, first);
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
    if (c0 === 32 || c0 === 9) return p.fail(400, 'folded header line (obs-fold)');
    if (line.indexOf('\r') >= 0) return p.fail(400, 'stray CR');
    const colon = line.indexOf(':');
    if (colon <= 0) return p.fail(400, 'header line without a name and ":"');
    const rawName = line.substring(0, colon);
    if (!isToken(rawName)) return p.fail(400, 'bad header name');
    const value = trimOws(line.substring(colon + 1));
    if (!isFieldValue(value)) return p.fail(400, 'control character in a header value');
    const name = rawName.toLowerCase();
    m.names.push(name);
    m.values.push(value);
    switch (name) {
      case 'content-length':
        if (lengthSeen) return p.fail(400, 'more than one Content-Length');
        lengthSeen = true;
        contentLength = contentLengthOf(value);
        if (contentLength < 0) return p.fail(400, 'malformed Content-Length');
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
        if (p.isRequest && !isHost(value)) return p.fail(400, 'invalid Host');
        break;
      case 'expect':
        if (value.toLowerCase() === '100-continue') m.expectContinue = true;
        break;
    }
  }
  m.keepAlive = !close && (m.version === 11 || keepAliveToken);
  return p.isRequest ? requestFraming(p, m, hosts, transfer, lengthSeen, contentLength) : responseFraming(p, m, transfer, lengthSeen, contentLength);
}

/** Returns true (after failing) when the line is refused. */
function parseRequestLine(p: ParserState, m: HttpMessage, line: string): boolean {
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) return p.refuse(400, 'malformed request line');
  const method = line.substring(0, sp1);
  if (!isToken(method)) return p.refuse(400, 'bad method');
  const target = line.substring(sp1 + 1, sp2);
  if (target.length === 0) return p.refuse(400, 'empty request target');
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c >= 127) return p.refuse(400, 'bad character in request target');
  }
  const version = parseVersion(p, line.substring(sp2 + 1));
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

function parseStatusLine(p: ParserState, m: HttpMessage, line: string): boolean {
  const sp = line.indexOf(' ');
  if (sp < 0) return p.refuse(400, 'malformed status line');
  const version = parseVersion(p, line.substring(0, sp));
  if (version < 0) return true;
  const code = line.substring(sp + 1, sp + 4);
  let status = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c < 48 || c > 57) return p.refuse(400, 'malformed status code');
    status = status * 10 + (c - 48);
  }
  if (code.length !== 3 || status < 100) return p.refuse(400, 'malformed status code');
  if (line.length > sp + 4 && line.charCodeAt(sp + 4) !== 32) return p.refuse(400, 'malformed status line');
  const reason = line.substring(sp + 5);
  if (!isFieldValue(reason)) return p.refuse(400, 'control character in reason phrase');
  m.version = version;
  m.status = status;
  m.reason = reason;
  return false;
}

/** 11 or 10; else fails (505 for another HTTP version, 400 for garbage) and returns -1. */
function parseVersion(p: ParserState, v: string): number {
  if (v === 'HTTP/1.1') return 11;
  if (v === 'HTTP/1.0') return 10;
  const d1 = v.charCodeAt(5);
  const d2 = v.charCodeAt(7);
  if (v.length === 8 && v.substring(0, 5) === 'HTTP/' && v.charAt(6) === '.' && d1 >= 48 && d1 <= 57 && d2 >= 48 && d2 <= 57) {
    p.fail(505, 'HTTP version not supported');
  } else {
    p.fail(400, 'malformed HTTP version');
  }
  return -1;
}
