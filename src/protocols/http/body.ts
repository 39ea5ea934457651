/**
 * The body of an HTTP/1.1 message (RFC 9112 6-7): how the head says it is
 * delimited, and reading it from the ring: a declared length, until close,
 * or chunked, whose framing is parsed one byte at a time so any split of the
 * input reads the same. The state lives on the parser (codec.ts), seen
 * through ParserState.
 */
import type { Ring } from '../../core/ring.js';
import { ringMove } from '../../core/bytes.js';
import { State } from './parser-state.js';
import type { ParserState } from './parser-state.js';
import { BodyKind, CR, hexValue, isToken, LF, Step, trimOws } from './message.js';
import type { HttpMessage } from './message.js';

/** What a Transfer-Encoding list amounts to. */
const enum Codings {
  CHUNKED = 0,
  OTHERS_THEN_CHUNKED = 1,
  NOT_CHUNKED = 2,
  MALFORMED = 3,
}

/** RFC 9112 6.1–6.3 for requests, without the lenient options. */
export function requestFraming(p: ParserState, m: HttpMessage, hosts: number, transfer: string | null, lengthSeen: boolean, length: number): Step {
  if (hosts > 1 || (hosts === 0 && m.version === 11)) return p.fail(400, hosts ? 'more than one Host' : 'missing Host');
  if (transfer !== null) {
    if (lengthSeen) return p.fail(400, 'both Content-Length and Transfer-Encoding');
    if (m.version === 10) return p.fail(400, 'Transfer-Encoding in an HTTP/1.0 request');
    const codings = transferCodings(transfer);
    if (codings === Codings.MALFORMED) return p.fail(400, 'malformed Transfer-Encoding');
    if (codings === Codings.NOT_CHUNKED) return p.fail(400, 'chunked is not the final transfer coding');
    if (codings === Codings.OTHERS_THEN_CHUNKED) return p.fail(501, 'unsupported transfer coding');
    return startBody(p, m, BodyKind.CHUNKED, -1);
  }
  if (lengthSeen) {
    if (length > p.limits.bodyBytes) return p.fail(413, 'declared body larger than ' + p.limits.bodyBytes + ' bytes');
    return startBody(p, m, length > 0 ? BodyKind.LENGTH : BodyKind.NONE, length);
  }
  return startBody(p, m, BodyKind.NONE, -1);
}

/** RFC 9112 6.3 for responses; the status and the request method decide first. */
export function responseFraming(p: ParserState, m: HttpMessage, transfer: string | null, lengthSeen: boolean, length: number): Step {
  const s = m.status;
  if (p.noBody || s < 200 || s === 204 || s === 304) return startBody(p, m, BodyKind.NONE, lengthSeen ? length : -1);
  if (transfer !== null) {
    if (lengthSeen) return p.fail(400, 'both Content-Length and Transfer-Encoding');
    const codings = transferCodings(transfer);
    if (codings === Codings.MALFORMED) return p.fail(400, 'malformed Transfer-Encoding');
    if (codings === Codings.OTHERS_THEN_CHUNKED) return p.fail(501, 'unsupported transfer coding');
    if (codings === Codings.NOT_CHUNKED) {
      // RFC 9112 6.3: a response whose final coding is not chunked is delimited by close
      m.keepAlive = false;
      return startBody(p, m, BodyKind.UNTIL_CLOSE, -1);
    }
    return startBody(p, m, BodyKind.CHUNKED, -1);
  }
  if (lengthSeen) {
    if (length > p.limits.bodyBytes) return p.fail(413, 'declared body larger than ' + p.limits.bodyBytes + ' bytes');
    return startBody(p, m, length > 0 ? BodyKind.LENGTH : BodyKind.NONE, length);
  }
  m.keepAlive = false;
  return startBody(p, m, BodyKind.UNTIL_CLOSE, -1);
}

/** Reads a Transfer-Encoding list: see `Codings`. */
function transferCodings(list: string): Codings {
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

/** Records how the body is delimited and sets the state that reads it; HEAD. */
function startBody(p: ParserState, m: HttpMessage, kind: BodyKind, length: number): Step {
  m.bodyKind = kind;
  m.contentLength = length;
  p.bodyTotal = 0;
  p.keep = false;
  p.kept = 0;
  switch (kind) {
    case BodyKind.NONE:
      p.state = State.BODY_NONE;
      break;
    case BodyKind.LENGTH:
      p.state = State.LENGTH;
      p.remaining = length;
      break;
    case BodyKind.CHUNKED:
      p.state = State.CHUNK_SIZE;
      p.digits = 0;
      p.chunkSize = 0;
      break;
    default:
      p.state = State.UNTIL_CLOSE;
  }
  return Step.HEAD;
}

/** Hands out up to `most` contiguous body bytes at the ring's front as DATA. */
export function bodyData(p: ParserState, ring: Ring, most: number): Step {
  let n = ring.contiguousLength();
  if (most < n) n = most;
  if (n <= 0) return Step.MORE;
  p.dataLength = n;
  p.pending = n;
  return Step.DATA;
}

/** A body of declared length: handed out as DATA, or kept in place. */
export function lengthBody(p: ParserState, ring: Ring): Step {
  if (p.keep) {
    let n = ring.length - p.kept;
    if (n > p.remaining) n = p.remaining;
    p.kept += n;
    p.remaining -= n;
  }
  if (p.remaining === 0) return p.end();
  if (p.keep) return Step.MORE;
  const step = bodyData(p, ring, p.remaining);
  if (step === Step.DATA) p.remaining -= p.dataLength;
  return step;
}

/** The chunked body (RFC 9112 7.1), one framing byte at a time. */
export function chunkedBody(p: ParserState, ring: Ring): Step {
  const lim = p.limits;
  // Framing bytes parsed but not yet removed: a gap after the kept body. Chunk data moves up over it (each
  // byte once); the gap itself is dropped when it is all that follows, or goes with the body at END.
  let skip = 0;
  for (;;) {
    if (p.state === State.CHUNK_DATA) {
      if (p.remaining > 0) {
        if (skip > 0 && p.kept === 0) {
          ring.discard(skip);
          skip = 0;
        }
        if (!p.keep) {
          const step = bodyData(p, ring, p.remaining);
          if (step === Step.DATA) p.remaining -= p.dataLength;
          return step;
        }
        let n = ring.length - p.kept - skip;
        if (n <= 0) break;
        if (n > p.remaining) n = p.remaining;
        if (skip > 0) ringMove(ring, p.kept, p.kept + skip, n);
        p.kept += n;
        p.remaining -= n;
        continue;
      }
      p.state = State.CHUNK_DATA_CR;
    }
    const at = p.kept + skip;
    if (at >= ring.length) break;
    const b = ring.peek(at);
    skip++;
    switch (p.state) {
      case State.CHUNK_SIZE: {
        const v = hexValue(b);
        if (v >= 0) {
          if (++p.digits > 16) return p.fail(400, 'chunk size too long');
          p.chunkSize = p.chunkSize * 16 + v;
          if (p.chunkSize > bodyLimit(p)) return p.fail(413, 'chunk larger than the body limit');
        } else if (p.digits > 0 && b === 59) {
          p.state = State.CHUNK_EXT;
          p.lineBytes = 0;
        } else if (p.digits > 0 && b === CR) {
          p.state = State.CHUNK_SIZE_LF;
        } else {
          return p.fail(400, 'bad chunk size');
        }
        break;
      }
      case State.CHUNK_EXT:
        if (b === CR) p.state = State.CHUNK_SIZE_LF;
        else if ((b < 32 && b !== 9) || b === 127) return p.fail(400, 'control character in a chunk extension');
        else if (++p.lineBytes > lim.headerBytes) return p.fail(400, 'chunk extension too long');
        break;
      case State.CHUNK_SIZE_LF:
        if (b !== LF) return p.fail(400, 'chunk size line without LF');
        if (p.chunkSize === 0) {
          p.state = State.TRAILER_LINE_START;
          p.trailerLines = 0;
          p.lineBytes = 0;
        } else {
          p.bodyTotal += p.chunkSize;
          if (p.bodyTotal > bodyLimit(p)) return p.fail(413, 'chunked body larger than ' + bodyLimit(p) + ' bytes');
          p.remaining = p.chunkSize;
          p.state = State.CHUNK_DATA;
        }
        break;
      case State.CHUNK_DATA_CR:
        if (b !== CR) return p.fail(400, 'chunk data longer than its size');
        p.state = State.CHUNK_DATA_LF;
        break;
      case State.CHUNK_DATA_LF:
        if (b !== LF) return p.fail(400, 'chunk data without CRLF');
        p.state = State.CHUNK_SIZE;
        p.digits = 0;
        p.chunkSize = 0;
        break;
      case State.TRAILER_LINE_START:
        if (b === CR) {
          p.state = State.TRAILER_END_LF;
          break;
        }
        if (b === 32 || b === 9) return p.fail(400, 'folded trailer line (obs-fold)');
        if (++p.trailerLines > lim.headerCount) return p.fail(431, 'too many trailer fields');
        p.state = State.TRAILER_LINE;
        if (!trailerByte(p, b)) return Step.ERROR;
        break;
      case State.TRAILER_LINE:
        if (!trailerByte(p, b)) return Step.ERROR;
        break;
      case State.TRAILER_LINE_LF:
        if (b !== LF) return p.fail(400, 'stray CR in a trailer');
        p.state = State.TRAILER_LINE_START;
        break;
      case State.TRAILER_END_LF: {
        if (b !== LF) return p.fail(400, 'stray CR after the last chunk');
        // what follows may be the next message: a gap after a kept body is dropped with it on the next call
        const gap = p.kept > 0 ? skip : 0;
        if (gap === 0) ring.discard(skip);
        const step = p.end();
        p.pending += gap;
        return step;
      }
    }
  }
  // Everything held was parsed, so the gap is the last bytes held: dropped from the tail, the kept body stays put.
  if (p.kept === 0) ring.discard(skip);
  else ring.commit(-skip);
  return Step.MORE;
}

/** One byte of a trailer line; false (failed) when refused. */
function trailerByte(p: ParserState, b: number): boolean {
  if (b === CR) p.state = State.TRAILER_LINE_LF;
  else if (b === LF || (b < 32 && b !== 9) || b === 127) return !p.refuse(400, 'control character in a trailer');
  else if (++p.lineBytes > p.limits.headerBytes) return !p.refuse(431, 'trailer fields too large');
  return true;
}

/** The body limit in force: the buffer's size while keeping, else `limits.bodyBytes`. */
function bodyLimit(p: ParserState): number {
  return p.keep && p.keepLimit < p.limits.bodyBytes ? p.keepLimit : p.limits.bodyBytes;
}
