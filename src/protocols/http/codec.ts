/**
 * HTTP/1.1 message codec (RFC 9112): a pure, incremental parser that reads
 * requests or responses straight from a connection's receive ring. No I/O and
 * no timers. This file holds the parser's state and finds the end of a head;
 * head.ts parses the head, body.ts frames the body (the chunked state machine
 * included), message.ts holds what they share, format.ts the writer's helpers.
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
import { ringText } from '../../core/bytes.js';
import { bodyData, chunkedBody, lengthBody } from './body.js';
import { State } from './parser-state.js';
import type { ParserState } from './parser-state.js';
import { parseHead } from './head.js';
import { CR, HttpMessage, LF, Step } from './message.js';
import type { HttpLimits } from './message.js';

/**
 * Incremental parser for one direction of one connection. Feed it the ring
 * the bytes arrive in, call `next()` until it says MORE, and call it again on
 * the next RECV. Safe at every split of the input.
 */
export class HttpParser implements ParserState {
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
  /** @internal */
  kept = 0;
  /** Bytes dropped for the next call: the body bytes handed out by the last DATA or END (a kept body with the framing gap after it). */
  /** @internal */
  pending = 0;
  /** @internal */
  state = State.HEAD;
  /** Head scan: next offset to search for LF, start of the current line, lines seen. */
  private scanAt = 0;
  private lineStart = 0;
  private lines = 0;
  /** Body state. */
  /** @internal */
  remaining = 0;
  /** @internal */
  bodyTotal = 0;
  /** @internal */
  digits = 0;
  /** @internal */
  chunkSize = 0;
  /** @internal */
  lineBytes = 0;
  /** @internal */
  trailerLines = 0;

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
        return lengthBody(this, ring);
      case State.UNTIL_CLOSE:
        return bodyData(this, ring, ring.length);
      case State.ERROR:
        return Step.ERROR;
      default:
        return chunkedBody(this, ring);
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
  /** @internal */
  refuse(status: number, text: string): boolean {
    this.fail(status, text);
    return true;
  }

  /** @internal */
  fail(status: number, text: string): Step {
    this.state = State.ERROR;
    this.errorStatus = status;
    this.errorText = text;
    return Step.ERROR;
  }

  /** @internal */
  end(): Step {
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
        const m = this.create ? this.create() : new HttpMessage();
        this.message = m;
        const step = parseHead(this, m, ringText(ring, 0, size - 2));
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
}
