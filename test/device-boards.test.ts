import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boards } from '../boards/index.js';
import type { BoardProfile } from '../boards/profile.js';
import type { Driver } from '../src/core/driver.js';
import { Manager } from '../src/core/manager.js';
import { POOL_USERS, staticBudget } from '../src/cli/budget.js';

const names = Object.keys(boards);
/** A bundle that contains every module that uses a pool: all of the board's pools count. */
const EVERY_POOL_USER = Object.keys(POOL_USERS).map((pool) => POOL_USERS[pool]);

/** A driver that only answers what the Manager constructor asks. */
const idleDriver = { linkUp: () => true } as unknown as Driver;

test('boards: esp32, esp8266 and host exist and are named after their key', () => {
  assert.deepEqual(names.sort(), ['esp32', 'esp8266', 'host']);
  for (const n of names) assert.equal(boards[n].name, n);
});

test('boards: pools work as Manager pools, and the budget is exactly what the Manager allocates', () => {
  for (const n of names) {
    const b: BoardProfile = boards[n];
    const mgr = new Manager(idleDriver, { pools: b.pools, pollMs: b.pollMs });
    let rings = 0;
    for (const p of staticBudget(b, EVERY_POOL_USER).pools) rings += p.bytes;
    assert.equal(rings, mgr.arenaBytes, n);
    for (const pool of Object.keys(b.pools)) assert.equal(mgr.freeSlots(pool), b.pools[pool].conns, n + ' ' + pool);
  }
});

/** The rings of every pooled slot (the manager's private pools, read for this check). */
function ringViews(mgr: Manager): Uint8Array[] {
  const pools = (mgr as unknown as { pools: { [name: string]: { recv: { bytes: Uint8Array }; unsent: { bytes: Uint8Array } }[] } }).pools;
  const out: Uint8Array[] = [];
  for (const name of Object.keys(pools)) for (const c of pools[name]) out.push(c.recv.bytes, c.unsent.bytes);
  return out;
}

test('boards: every ring is a view Espruino can make: from a buffer of at most 64 KB, starting within it', () => {
  for (const n of names) {
    const b = boards[n];
    const views = ringViews(new Manager(idleDriver, { pools: b.pools }));
    let slots = 0;
    for (const pool of Object.keys(b.pools)) slots += b.pools[pool].conns;
    assert.equal(views.length, 2 * slots, n);
    for (const v of views) {
      assert.ok(v.buffer.byteLength <= 65535, n + ': a buffer of ' + v.buffer.byteLength + ' B');
      assert.ok(v.byteOffset + v.length <= v.buffer.byteLength && v.byteOffset <= 65535, n + ': a view at ' + v.byteOffset);
    }
  }
});

test('boards: connections plus at least two listeners fit in the sockets the board has', () => {
  for (const n of names) {
    const b = boards[n];
    let conns = 0;
    for (const pool of Object.keys(b.pools)) conns += b.pools[pool].conns;
    assert.ok(conns + 2 <= b.maxSockets, n + ': ' + conns + ' connections on ' + b.maxSockets + ' sockets');
  }
  assert.equal(boards.esp32.maxSockets, 10);
  assert.equal(boards.esp8266.maxSockets, 10);
});

test('boards: protocol limits fit the rings that carry them', () => {
  for (const n of names) {
    const b = boards[n];
    const d = b.pools.default;
    assert.ok(b.http.headerBytes <= d.recvBytes, n + ': an HTTP head must fit the default recv ring');
    assert.ok(b.ws.messageBytes <= d.recvBytes, n + ': a WebSocket message must fit the default recv ring');
    assert.ok(b.ws.fragments >= 1 && b.ws.fragments <= b.ws.messageBytes, n + ': a bound on fragments per WebSocket message');
    assert.ok(b.mqtt.packetMax <= b.pools.mqtt.recvBytes && b.mqtt.packetMax <= b.pools.mqtt.sendBytes, n + ': an MQTT packet must fit the mqtt rings');
    assert.ok(b.udp.datagramMax <= b.pools.udp.recvBytes && b.udp.datagramMax + 2 <= b.pools.udp.sendBytes, n + ': a datagram (+2 length bytes when queued) must fit the udp rings');
    assert.ok(b.mqtt.inflight <= b.mqtt.outboxCount && b.mqtt.outboxCount > 0 && b.mqtt.outboxBytes >= b.mqtt.packetMax, n + ': outbox');
    assert.ok(b.http.headerCount > 0 && b.http.bodyBytes > 0, n);
  }
});

test('boards: the network limits cover what Espruino delivers between two polls', () => {
  for (const n of names) {
    const net = boards[n].net;
    // A peer's data arrives in chunks of the board's network (268 bytes on an ESP8266) or of the Linux build (536):
    // the hold takes at least two of the board's and one of the Linux build's past a full recv ring. (On the
    // 1,600-variable build the esp8266's 1,024 serves two echo clients at once byte-exact with rings of one chunk.)
    assert.ok(net.holdBytes >= 2 * net.chunkBytes && net.holdBytes >= 536, n + ': holdBytes');
    assert.ok(net.inFlightBytes >= net.chunkBytes, n + ': at least one chunk in flight');
    assert.ok(net.chunkBytes === 268 || net.chunkBytes === 536, n + ': chunk size of an Espruino network');
  }
});

test('boards: TLS only where the board has a tls module, and no Wi-Fi credentials in the profile', () => {
  assert.equal(boards.esp32.hasTls, true);
  assert.equal(boards.esp8266.hasTls, false);
  for (const n of names) {
    const text = JSON.stringify(boards[n]);
    assert.ok(!/ssid|password|psk/i.test(text), n + ' must not carry credentials');
    assert.match(boards[n].wifiFile, /^[\w.]+\.json$/);
  }
});

test('boards: the ESP8266 rings stay a small part of its ~25 KB JavaScript heap', () => {
  for (const [board, most] of [['esp8266', 6 * 1024], ['esp32', 24 * 1024]] as [string, number][]) {
    let rings = 0;
    for (const p of staticBudget(boards[board], EVERY_POOL_USER).pools) rings += p.bytes;
    assert.ok(rings <= most, board + ': ' + rings + ' B of rings');
  }
});

test('boards: sensor pins are Espruino pin names', () => {
  for (const n of ['esp32', 'esp8266']) {
    const pins = boards[n].pins;
    for (const k of Object.keys(pins) as (keyof typeof pins)[]) assert.match(pins[k], /^(D\d{1,2}|A0)$/, n + ' ' + k);
  }
});

test('pools: rings come from arenas of at most 65,535 bytes (Espruino views no further), whole connections each, packed in order', () => {
  const pools = {
    a: { conns: 3, recvBytes: 12000, sendBytes: 8000 }, // 60,000
    b: { conns: 2, recvBytes: 3000, sendBytes: 2000 }, // the first fits beside a's (65,000), the second starts an arena
    c: { conns: 1, recvBytes: 60000, sendBytes: 5000 }, // 65,000: not beside b's second (70,000), so an arena of its own
  };
  const mgr = new Manager(idleDriver, { pools: pools });
  const arenas: ArrayBufferLike[] = [];
  const byPool: { [pool: string]: number[] } = {};
  for (const name of Object.keys(pools)) {
    byPool[name] = [];
    for (let i = 0; i < pools[name as keyof typeof pools].conns; i++) {
      const c = mgr.connect('tcp://127.0.0.1:1', null, { pool: name });
      assert.ok(c, name + ' ' + i);
      let k = arenas.indexOf(c.recv.bytes.buffer);
      if (k < 0) k = arenas.push(c.recv.bytes.buffer) - 1;
      assert.equal(c.unsent.bytes.buffer, c.recv.bytes.buffer, 'a connection\'s two rings share an arena');
      assert.equal(c.unsent.bytes.byteOffset, c.recv.bytes.byteOffset + c.recv.capacity, 'side by side');
      byPool[name].push(k);
    }
    byPool[name].sort();
  }
  assert.deepEqual(arenas.map((a) => a.byteLength), [65000, 5000, 65000]);
  assert.deepEqual(byPool, { a: [0, 0, 0], b: [0, 1], c: [2] });
  assert.equal(mgr.arenaBytes, 135000);
});
