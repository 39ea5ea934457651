/** MQTT client events (300–399) and the payload each one carries. */
import type { ErrorInfo } from '../../core/events.js';
import type { Message } from './codec.js';

export enum DropReason {
  /** The outbox was full and this, the oldest, made room (default policy). */
  OLDEST = 1,
  /** The outbox was full and refused this new one (`refuseNew`). */
  REFUSED = 2,
  /** A newer message for the same topic replaced this unsent one (`latestPerTopic`). */
  REPLACED = 3,
  /** Larger than the outbox, or than the connection's send ring. */
  TOO_BIG = 4,
}

export enum MqttEv {
  /** Every CONNACK; `returnCode` 0 means the session is open. */
  CONNACK = 300,
  /** A message arrived on a subscription (its payload is valid during the event; copy to keep). */
  MESSAGE = 301,
  /** A QoS 1/2 publish is complete: PUBACK (QoS 1) or PUBCOMP (QoS 2) came; `qos` 1 for a QoS 2 publish the broker answered with PUBACK (downgraded; counted in stats). */
  PUBACK = 302,
  SUBACK = 303,
  UNSUBACK = 304,
  /** A queued publish was dropped (outbox policy or size); one event per message. */
  DROPPED = 305,
  /** The connection failed or the peer broke the protocol; CLOSE follows when a connection was open. */
  ERROR = 306,
  /** The connection is gone; the client reconnects after `reconnectMs` (-1: it will not). */
  CLOSE = 307,
  /**
   * A message from the broker was larger than the receive limit (`maxPacket`,
   * or the receive ring): acknowledged per its QoS, so the broker does not
   * resend it, and its payload discarded unread as it streamed in. `data` is
   * the message with an empty payload and `size`, its packet's bytes. One
   * event per message (a QoS 1 resend after a lost connection is another).
   */
  SKIPPED = 308,
}

export interface MqttConnack {
  returnCode: number;
  sessionPresent: boolean;
}

export interface MqttPuback {
  id: number;
  /** The QoS the broker completed it at. */
  qos: number;
}

export interface MqttSuback {
  topic: string;
  /** The granted QoS, or 0x80 when the broker refused the subscription. */
  qos: number;
}

export interface MqttUnsuback {
  topic: string;
}

export interface MqttDropped {
  reason: DropReason;
  topic: string;
  qos: number;
  /** Packet identifier (0 for QoS 0). */
  id: number;
  /** Drops so far over the client's life, this one included. */
  total: number;
}

export interface MqttClose {
  reconnectMs: number;
}

/** `data` for each MQTT event. */
export interface MqttEvents {
  [MqttEv.CONNACK]: MqttConnack;
  [MqttEv.MESSAGE]: Message;
  [MqttEv.PUBACK]: MqttPuback;
  [MqttEv.SUBACK]: MqttSuback;
  [MqttEv.UNSUBACK]: MqttUnsuback;
  [MqttEv.DROPPED]: MqttDropped;
  [MqttEv.ERROR]: ErrorInfo;
  [MqttEv.CLOSE]: MqttClose;
  [MqttEv.SKIPPED]: Message;
}
