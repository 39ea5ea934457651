/**
 * Datagram (UDP) sockets for the Espruino driver, on `require('dgram')`. Opt-in:
 * `new EspruinoDriver({ ..., datagrams: espruinoDatagrams(board.udp) })`, so an app that
 * needs no UDP does not carry this code to the device.
 */
import type { Address } from '../core/address.js';
import { sendDatagrams, takeDatagram } from '../core/datagram.js';
import type { Datagram } from '../core/datagram.js';
import type { DriverSocket, Sink } from '../core/driver.js';
import { SinkEvent } from '../core/driver.js';
import { ErrorCode } from '../core/events.js';
import type { Ring } from '../core/ring.js';
import { toBinary } from './espruino.js';
import type { DatagramOpener, EspruinoDriver } from './espruino.js';

declare function require(module: string): any;
declare const E: { toUint8Array(s: string): Uint8Array };

class EspruinoDatagrams implements DriverSocket {
  remote: Address;
  /** Received datagrams, oldest first, at most the board's `udp.queue` of them. */
  private readonly queue: Datagram[] = [];
  private dead = false;

  constructor(
    private readonly socket: any,
    remote: Address | null,
    sink: Sink,
    driver: EspruinoDriver,
    maxQueue: number,
  ) {
    this.remote = remote || { host: '', port: 0 };
    const self = this;
    const queue = this.queue;
    socket.on(
      'message',
      driver.guard(function (msg: string, info: { address: string; port: number }) {
        if (self.dead || queue.length >= maxQueue) return; // like a full socket buffer: the newest is lost
        queue.push({ bytes: E.toUint8Array(msg), from: { host: info.address, port: info.port } });
        sink.notify(SinkEvent.READABLE);
      }),
    );
    socket.on(
      'close',
      driver.guard(function () {
        if (self.dead) return;
        self.dead = true;
        sink.notify(SinkEvent.CLOSED, ErrorCode.SOCKET, 'datagram socket closed');
      }),
    );
  }

  readInto(into: Ring): number {
    return takeDatagram(this.queue, into, this);
  }

  write(from: Ring): number {
    if (this.dead || !this.remote.port) return 0;
    const socket = this.socket;
    const to = this.remote;
    return sendDatagrams(from, function (datagram: Uint8Array) {
      const s = toBinary(datagram, 0, datagram.length);
      if (s === undefined) return false; // no flat block free now: it stays queued
      try {
        socket.send(s, to.port, to.host);
      } catch (e) {
        // too large for the stack's buffers: lost, as a network may lose any datagram
      }
      return true;
    });
  }

  close(): void {
    if (this.dead) return;
    this.dead = true;
    try {
      this.socket.close();
    } catch (e) {
      // already closed
    }
  }
}

/** Datagram sockets for EspruinoDriver (its `datagrams` option), each holding at most `limits.queue` unread datagrams. */
export function espruinoDatagrams(limits: { queue: number }): DatagramOpener {
  return function (driver, host, port, remote, sink) {
    const socket = require('dgram').createSocket('udp4');
    const d = new EspruinoDatagrams(socket, remote, sink, driver, limits.queue);
    if (!remote || port) socket.bind(port); // a client socket gets its port with its first datagram
    return d;
  };
}
