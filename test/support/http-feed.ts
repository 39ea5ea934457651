/** Feeds bytes to an HttpParser through a Ring in chosen pieces and records what it reports. */
import { Ring } from '../../src/core/ring.js';
import { HttpParser } from '../../src/protocols/http/codec.js';
import { Step } from '../../src/protocols/http/message.js';
import type { HttpLimits, HttpMessage } from '../../src/protocols/http/message.js';
import { feedPieces } from './every-split.js';

export interface Seen {
  heads: HttpMessage[];
  /** One entry per message: its body bytes as a binary string. */
  bodies: string[];
  ends: number;
  /** Error status, or 0. */
  error: number;
  errorText: string;
  /** Largest head-in-progress held in the ring while the parser waited for more. */
  maxHeldHead: number;
}

export function bytesOf(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255;
  return b;
}

/**
 * Parses `input` delivered in pieces cut at `cuts` (ascending offsets).
 * `finish`: call parser.finish() at the end (the connection closed).
 */
export function feed(
  input: Uint8Array,
  cuts: number[],
  limits: HttpLimits,
  isRequest: boolean,
  opts?: { capacity?: number; finish?: boolean; noBody?: boolean; keep?: boolean; keepLimit?: number; ring?: Ring },
): Seen {
  const o = opts || {};
  const ring = o.ring || new Ring(o.capacity || Math.max(64, input.length + 1));
  const parser = new HttpParser(limits, isRequest);
  parser.noBody = !!o.noBody;
  const seen: Seen = { heads: [], bodies: [], ends: 0, error: 0, errorText: '', maxHeldHead: 0 };
  const drain = (): boolean => {
    for (;;) {
      const st = parser.next(ring);
      if (st === Step.MORE) {
        if (!parser.inBody && ring.length > seen.maxHeldHead) seen.maxHeldHead = ring.length;
        return true;
      }
      if (st === Step.HEAD) {
        seen.heads.push(parser.message);
        seen.bodies.push('');
        // like the server: keep only a body that can fit (a chunked one is refused by the parser when it outgrows the limit)
        if (o.keep && (parser.message.bodyKind === 2 || parser.message.contentLength <= (o.keepLimit === undefined ? Infinity : o.keepLimit))) {
          parser.keep = true;
          parser.keepLimit = o.keepLimit === undefined ? Infinity : o.keepLimit;
        }
      } else if (st === Step.DATA) {
        if (parser.keep) throw new Error('DATA in keep mode');
        let s = '';
        for (let k = 0; k < parser.dataLength; k++) s += String.fromCharCode(ring.peek(k));
        seen.bodies[seen.bodies.length - 1] += s;
      } else if (st === Step.END) {
        seen.ends++;
        if (parser.dataLength > 0) {
          // keep mode: the whole body is at the front
          let s = '';
          for (let k = 0; k < parser.dataLength; k++) s += String.fromCharCode(ring.peek(k));
          seen.bodies[seen.bodies.length - 1] += s;
        }
      } else {
        seen.error = parser.errorStatus;
        seen.errorText = parser.errorText;
        return false;
      }
    }
  };
  if (!feedPieces(ring, input, cuts, drain)) return seen;
  if (o.finish) {
    const st = parser.finish();
    if (st === Step.END) seen.ends++;
    else if (st === Step.ERROR) {
      seen.error = parser.errorStatus;
      seen.errorText = parser.errorText;
    }
  }
  return seen;
}

/** A comparable summary of what was seen. */
export function summary(s: Seen): string {
  const parts: string[] = [];
  for (let i = 0; i < s.heads.length; i++) {
    const h = s.heads[i];
    const hdrs: string[] = [];
    for (let k = 0; k < h.names.length; k++) hdrs.push(h.names[k] + '=' + h.values[k]);
    parts.push(
      [h.method, h.target, h.path, h.query, h.version, h.status, h.reason, h.bodyKind, h.contentLength, h.keepAlive, h.expectContinue, hdrs.join('&'), JSON.stringify(s.bodies[i])].join('|'),
    );
  }
  return parts.join('\n') + '\nends=' + s.ends + ' error=' + s.error;
}
