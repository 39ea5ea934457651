/**
 * Event numbers and the payload each one carries.
 *
 * Regular enums, so Node code has them at run time; the device build reads them
 * as const enums (src/cli/bundle.ts), so bundles carry plain numbers. Protocol
 * events start at 100 per protocol so numbers never collide: HTTP 100, WS 200,
 * MQTT 300, SNTP 400.
 */
import type { Address } from './address.js';

export enum Ev {
  ERROR = 0,
  ACCEPT = 1,
  CONNECT = 2,
  RECV = 3,
  SEND = 4,
  POLL = 5,
  TIMER = 6,
  CLOSE = 7,
}

/** Why a connection failed. CONNECT carries one of these (0 is success); so does ERROR. */
export enum ErrorCode {
  OK = 0,
  REFUSED = 1,
  TIMEOUT = 2,
  RESET = 3,
  /** The link (Wi-Fi) is down or the host is unreachable. */
  UNREACHABLE = 4,
  /** A user or protocol handler threw. */
  HANDLER = 5,
  /** A protocol rejected what the peer sent. */
  PROTOCOL = 6,
  /** A peer's message is larger than this connection's limits. */
  TOO_BIG = 7,
  /** Any other socket failure the driver reported. */
  SOCKET = 8,
}

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

/** `data` for each core event. */
export interface CoreEvents {
  [Ev.ERROR]: ErrorInfo;
  [Ev.ACCEPT]: Address;
  [Ev.CONNECT]: ErrorCode;
  [Ev.RECV]: number;
  [Ev.SEND]: number;
  [Ev.POLL]: undefined;
  [Ev.TIMER]: undefined;
  [Ev.CLOSE]: undefined;
}
