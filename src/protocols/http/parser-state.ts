/**
 * What the head and body parsers (head.ts, body.ts) read and write of the
 * HTTP parser (codec.ts): its state, limits and failure calls. The parser
 * implements it; the parts depend on this, not on the parser, so codec.ts
 * imports them and they import nothing back.
 */
import type { HttpLimits, HttpMessage, Step } from './message.js';

/** Where the parser is: in a head, in a body of each framing, or failed. */
export const enum State {
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

export interface ParserState {
  readonly limits: HttpLimits;
  readonly isRequest: boolean;
  message: HttpMessage;
  dataLength: number;
  noBody: boolean;
  keep: boolean;
  keepLimit: number;
  kept: number;
  pending: number;
  state: State;
  remaining: number;
  bodyTotal: number;
  digits: number;
  chunkSize: number;
  lineBytes: number;
  trailerLines: number;
  /** `fail` for checks that answer "refused?": always true. */
  refuse(status: number, text: string): boolean;
  /** Fails the message with the status a server should answer: ERROR. */
  fail(status: number, text: string): Step;
  /** The message is complete: END (or the kept body's step). */
  end(): Step;
}
