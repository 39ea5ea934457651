/** Core behaviour the device relies on (changes made for Espruino). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../src/core/connection.js';
import type { Driver, DriverSocket, Sink } from '../src/core/driver.js';
import { SinkEvent } from '../src/core/driver.js';
import { Manager } from '../src/core/manager.js';
import { FaultyDriver } from '../src/drivers/faulty.js';
import type { Ring } from '../src/core/ring.js';

test('manager: a poll that throws (a driver fault) does not leave the manager stuck in poll', () => {
  let sink: Sink | null = null;
  let failReads = 1;
  const socket: DriverSocket = {
    remote: { host: '127.0.0.1', port: 1 },
    readInto(into: Ring) {
      if (failReads-- > 0) throw new Error('driver fault');
      return 0;
    },
    write: () => 0,
    close: () => undefined,
  };
  let wakes = 0;
  const driver: Driver = {
    name: 'test',
    hasTls: false,
    now: () => 0,
    setPoller: () => undefined,
    wake: () => {
      wakes++;
    },
    linkUp: () => true,
    listen: () => {
      throw new Error('unused');
    },
    connect: (host: string, port: number, s: Sink) => {
      sink = s;
      return socket;
    },
    udp: () => {
      throw new Error('unused');
    },
  };
  const mgr = new Manager(driver, { pools: { default: { conns: 1, recvBytes: 16, sendBytes: 16 } } });
  const events: number[] = [];
  mgr.connect('tcp://127.0.0.1:1', (c: Connection, ev: number) => events.push(ev));
  (sink as unknown as Sink).notify(SinkEvent.CONNECTED, 0);
  mgr.run();
  const before = wakes;
  assert.throws(() => mgr.poll(), /driver fault/);
  assert.ok(wakes > before, 'the next poll was still scheduled');
  events.length = 0;
  mgr.poll();
  assert.ok(events.length > 0, 'the following poll delivered events');
  mgr.stop();
});

test('manager: UDP on a driver made without datagrams is a clear error, and TCP still works', () => {
  const driver: Driver = {
    name: 'tcp-only',
    hasTls: false,
    now: () => 0,
    setPoller: () => undefined,
    wake: () => undefined,
    linkUp: () => true,
    listen: () => ({ port: 7, close: () => undefined }),
    connect: () => {
      throw new Error('unused');
    },
  };
  const mgr = new Manager(driver);
  assert.throws(() => mgr.listen('udp://0.0.0.0:5000', () => {}), /driver tcp-only was made without datagrams \(UDP\)/);
  assert.throws(() => mgr.connect('udp://127.0.0.1:5000', () => {}), /without datagrams/);
  const l = mgr.listen('tcp://0.0.0.0:7', () => {});
  assert.ok(l && l.remote.port === 7);
  assert.equal(mgr.freeSlots(), 8, 'a refused UDP open takes no slot');

  // The fault-injecting wrapper has datagrams only when what it wraps has them, so the manager's check covers it too.
  const wrapped = new Manager(new FaultyDriver(driver));
  assert.throws(() => wrapped.listen('udp://0.0.0.0:5000', () => {}), /driver faulty-tcp-only was made without datagrams \(UDP\)/);
  assert.throws(() => wrapped.connect('udp://127.0.0.1:5000', () => {}), /without datagrams/);
  assert.equal(wrapped.freeSlots(), 8, 'a refused UDP open through the wrapper takes no slot');
});
