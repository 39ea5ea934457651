/**
 * Backpressure end to end: a stream of twice the ring capacity through small
 * rings to a slow reader, checksummed at both ends, on both drivers (1-byte
 * wire chunks in the simulator).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../src/core/connection.js';
import { Ev } from '../src/core/events.js';
import { nodeWorld, simWorld } from './support/worlds.js';
import type { World } from './support/worlds.js';

const RING = 512;
const TOTAL = 2 * RING * 8; // 8 KiB: twice the capacity of all rings and the sim window on the way

function fnv(h: number, b: number): number {
  return Math.imul(h ^ b, 16777619) >>> 0;
}

async function streamToSlowReader(w: World): Promise<{ refusals: number; maxRecv: number }> {
  let sentSum = 2166136261;
  let recvSum = 2166136261;
  let received = 0;
  let maxRecv = 0;
  let done = false;
  const listener = w.server.listen('tcp://0.0.0.0:0', (c, ev) => {
    if (ev === Ev.RECV || ev === Ev.POLL || ev === Ev.TIMER) {
      if (c.recv.length > maxRecv) maxRecv = c.recv.length;
      // Slow: at most 37 bytes per event, and only every other poll.
      if (ev === Ev.POLL && (c.userData = (c.userData || 0) + 1) % 2 === 0) return;
      const n = Math.min(37, c.recv.length);
      for (let i = 0; i < n; i++) recvSum = fnv(recvSum, c.recv.peek(i));
      c.recv.discard(n);
      received += n;
      if (received === TOTAL) done = true;
    }
  }) as Connection;
  let written = 0;
  let refusals = 0;
  const chunk = new Uint8Array(200);
  const pump = (c: Connection) => {
    while (written < TOTAL) {
      const n = Math.min(chunk.length, TOTAL - written);
      for (let i = 0; i < n; i++) chunk[i] = (written + i) * 31 + ((written + i) >> 8);
      if (!c.send(chunk.subarray(0, n))) {
        refusals++;
        return; // all-or-nothing: try again on SEND
      }
      for (let i = 0; i < n; i++) sentSum = fnv(sentSum, chunk[i]);
      written += n;
    }
  };
  w.client.connect('tcp://' + w.serverHost + ':' + listener.remote.port, (c, ev) => {
    if (ev === Ev.CONNECT || ev === Ev.SEND || ev === Ev.POLL) pump(c);
  });
  await w.until(() => done, 20000, 'all bytes at the reader');
  assert.equal(received, TOTAL);
  assert.equal(recvSum, sentSum, 'checksums match');
  assert.ok(maxRecv <= RING, 'the ring never held more than its capacity');
  return { refusals, maxRecv };
}

const rings = { pools: { default: { conns: 4, recvBytes: RING, sendBytes: RING } }, pollMs: 10 };

describe('a slow reader pushes back all the way to send()', () => {
  test('on node', async () => {
    const w = nodeWorld({ server: rings, client: rings });
    try {
      const r = await streamToSlowReader(w);
      assert.ok(r.refusals > 0, 'send() refused when the ring was full');
    } finally {
      w.close();
    }
  });

  test('on the simulator with 1-byte wire chunks and a 1 KiB window', async () => {
    const w = simWorld({ server: rings, client: rings, sim: { seed: 3, chunkMin: 1, chunkMax: 1, windowBytes: 1024, latencyMs: 2 } });
    try {
      const r = await streamToSlowReader(w);
      assert.ok(r.refusals > 10, 'the full window and rings made send() refuse');
    } finally {
      w.close();
    }
  });

  test('on the simulator with random chunking and a slow reading host', async () => {
    const w = simWorld({ server: rings, client: rings, sim: { seed: 11, chunkMin: 1, chunkMax: 700, windowBytes: 2048, jitterMs: 3 } });
    try {
      (w.sim as NonNullable<World['sim']>).server.readRate = 5; // bytes per simulated ms
      const r = await streamToSlowReader(w);
      assert.ok(r.refusals > 0);
    } finally {
      w.close();
    }
  });
});
