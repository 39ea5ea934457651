/**
 * Datagram (UDP) sockets for the Espruino driver, on `require('dgram')`. Opt-in:
 * `new EspruinoDriver({ ..., datagrams: espruinoDatagrams(board.udp) })`, so an app that
 * needs no UDP does not carry this code to the device.
 */
import { NO_ADDRESS } from '../core/address.js';
import type { Address } from '../core/address.js';
import { DATAGRAM_HEADER, nextDatagram, takeDatagram } from '../core/datagram.js';
import type { Datagram } from '../core/datagram.js';
import type { DriverSocket, Sink } from '../core/driver.js';
import { SinkEvent } from '../core/driver.js';
import { ErrorCode } from '../core/events.js';
import type { Ring } from '../core/ring.js';
import type { DatagramOpener, EspruinoDriver } from './espruino.js';
import type { EspruinoE, EspruinoRequire } from './espruino-globals.js';

declare const require: EspruinoRequire;
declare const E: EspruinoE;

/** The interpreter's datagram socket, as far as this driver uses it. @runtime */
interface EsDgram {
  on(event: string, fn: (this: EsDgram, a: any, b?: any) => void): void;
  send(data: string, port: number, host: string): void;
  bind(port: number): void;
  close(): void;
  /** The socket object that owns this socket: the shared event handler finds it here. */
  ringnet?: EspruinoDatagrams;
}

/**
 * One event handler for every datagram socket, called by the interpreter on
 * the socket (which names its owner as `ringnet`): `message` (data, rinfo) and
 * `close` (had_error, no second argument), told apart by the rinfo. A closure
 * per socket and event, guarded, would be four function objects per socket
 * (each costs RAM on the device). An exception is counted by the driver, never
 * propagated (the interpreter could drop a throwing listener).
 */
function onDatagramEvent(this: EsDgram, msg: any, info?: { address: string; port: number }): void {
  const d = this.ringnet;
  if (!d || d.dead) return;
  try {
    if (info) {
      if (d.queue.length >= d.maxQueue) return; // like a full socket buffer: the newest is lost
      d.queue.push({ bytes: E.toUint8Array(msg), from: { host: info.address, port: info.port } });
      d.sink.notify(SinkEvent.READABLE);
    } else {
      d.dead = true;
      delete this.ringnet;
      d.sink.notify(SinkEvent.CLOSED, ErrorCode.SOCKET, 'datagram socket closed');
    }
  } catch (e) {
    d.driver.errors++;
    d.driver.lastError = String(e);
  }
}

class EspruinoDatagrams implements DriverSocket {
  remote: Address;
  /** @internal Received datagrams, oldest first, at most `maxQueue` (the board's `udp.queue`) of them. */
  readonly queue: Datagram[] = [];
  /** @internal No more events or writes: closed by the interpreter or by us (undefined until then: a variable less on the device than false). */
  dead?: boolean;

  constructor(
    private readonly socket: EsDgram,
    remote: Address | null,
    /** @internal */ readonly sink: Sink,
    /** @internal */ readonly driver: EspruinoDriver,
    /** @internal */ readonly maxQueue: number,
  ) {
    this.remote = remote || NO_ADDRESS;
    socket.ringnet = this;
    socket.on('message', onDatagramEvent);
    socket.on('close', onDatagramEvent);
  }

  readInto(into: Ring): number {
    return takeDatagram(this.queue, into, this);
  }

  /** Sends the queued datagrams (a plain loop: no callback per call). */
  write(from: Ring): number {
    let total = 0;
    let datagram: Uint8Array | null;
    while (!this.dead && this.remote.port && (datagram = nextDatagram(from)) !== null) {
      const s = E.toString(datagram); // a binary string, copied natively; undefined when no flat block is free
      if (s === undefined) break; // no flat block free now: it stays queued
      try {
        this.socket.send(s, this.remote.port, this.remote.host);
      } catch (e) {
        // too large for the stack's buffers: lost, as a network may lose any datagram
      }
      from.discard(DATAGRAM_HEADER + datagram.length);
      total += datagram.length;
    }
    return total;
  }

  close(): void {
    if (this.dead) return;
    this.dead = true;
    delete this.socket.ringnet; // socket and owner point at each other: only a collection would free the pair
    try {
      this.socket.close();
    } catch (e) {
      // already closed
    }
  }
}

/** Datagram sockets for EspruinoDriver (its `datagrams` option), each holding at most `limits.queue` unread datagrams. */
export function espruinoDatagrams(limits: { queue: number }): DatagramOpener {
  return function (this: EspruinoDriver, host, port, remote, sink) {
    const socket: EsDgram = require('dgram').createSocket('udp4');
    const d = new EspruinoDatagrams(socket, remote, sink, this, limits.queue);
    if (!remote || port) socket.bind(port); // a client socket gets its port with its first datagram
    return d;
  };
}
