/** SNTP: the codec, the client against a real chronyd, and its failure paths in the simulator. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ev } from '../src/core/events.js';
import { Manager } from '../src/core/manager.js';
import { NodeDriver } from '../src/drivers/node.js';
import { SimNetwork } from '../src/drivers/sim.js';
import { SNTP_PACKET_BYTES, decodeReply, encodeReply, encodeRequest, ntpToUnixMs, unixMsToNtp } from '../src/protocols/sntp/codec.js';
import type { SntpReply } from '../src/protocols/sntp/codec.js';
import { SntpClock, SntpEv, sntpKeep, sntpSync } from '../src/protocols/sntp/client.js';
import { startChrony } from './support/chrony.js';
import type { Chrony } from './support/chrony.js';
import { sleep } from './support/wait.js';

describe('sntp codec', () => {
  test('NTP and Unix time convert both ways, across the 2036 era', () => {
    assert.deepEqual(unixMsToNtp(0), { seconds: 2208988800, fraction: 0 });
    assert.equal(ntpToUnixMs({ seconds: 2208988800, fraction: 2147483648 }), 500);
    const y2040 = Date.UTC(2040, 0, 1);
    assert.ok(unixMsToNtp(y2040).seconds < 0x80000000, 'era 1 wraps');
    assert.equal(ntpToUnixMs(unixMsToNtp(y2040)), y2040);
  });

  const reply = fc.record({
    leap: fc.integer({ min: 0, max: 2 }),
    version: fc.integer({ min: 1, max: 4 }),
    mode: fc.constantFrom(4, 5),
    stratum: fc.integer({ min: 1, max: 15 }),
    originate: fc.record({ seconds: fc.nat(4294967295), fraction: fc.nat(4294967295) }),
    receiveMs: fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }),
    transmitMs: fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }),
    kissCode: fc.constant(''),
  });

  test('property: decode(encode(reply)) is the reply, to the millisecond', () => {
    fc.assert(
      fc.property(reply, (r: SntpReply) => {
        const out = decodeReply(encodeReply(new Uint8Array(48), r), 48);
        assert.ok(typeof out !== 'string', String(out));
        assert.deepEqual({ ...out.originate }, { ...r.originate });
        assert.equal(out.stratum, r.stratum);
        assert.ok(Math.abs(out.transmitMs - r.transmitMs) < 0.001);
        assert.ok(Math.abs(out.receiveMs - r.receiveMs) < 0.001);
      }),
    );
  });

  test('every truncation is refused with a reason; requests, bad modes and unsynchronized servers too', () => {
    const good = encodeReply(new Uint8Array(48), { leap: 0, version: 4, mode: 4, stratum: 2, originate: { seconds: 1, fraction: 2 }, receiveMs: 1e12, transmitMs: 1e12, kissCode: '' });
    for (let n = 0; n < SNTP_PACKET_BYTES; n++) assert.match(decodeReply(good, n) as string, /short/);
    assert.match(decodeReply(encodeRequest(new Uint8Array(48), { seconds: 5, fraction: 6 }), 48) as string, /mode 3/);
    const unsynced = good.slice();
    unsynced[0] |= 0xc0;
    assert.match(decodeReply(unsynced, 48) as string, /not synchronized/);
    const kiss = encodeReply(new Uint8Array(48), { leap: 3, version: 4, mode: 4, stratum: 0, originate: { seconds: 1, fraction: 2 }, receiveMs: 0, transmitMs: 0, kissCode: 'RATE' });
    assert.equal((decodeReply(kiss, 48) as SntpReply).kissCode, 'RATE');
  });

  test('fuzz: random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 60 }), (bytes) => {
        const padded = new Uint8Array(60);
        padded.set(bytes);
        const r = decodeReply(padded, bytes.length);
        assert.ok(typeof r === 'string' || typeof r.transmitMs === 'number');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sntp client against chronyd', () => {
  let chrony: Chrony;
  before(async () => {
    chrony = await startChrony(8);
  });
  after(() => chrony.stop());

  test('sets the clock from a real NTP server', async () => {
    const mgr = new Manager(new NodeDriver());
    mgr.run();
    try {
      const clock = new SntpClock(mgr);
      assert.equal(clock.now(), -1, 'unsynced until the first reply');
      const events: string[] = [];
      let time: any = null;
      sntpSync(mgr, 'udp://127.0.0.1:' + chrony.port, clock, (c, ev, data) => {
        if (ev !== Ev.POLL && ev !== Ev.SEND && ev !== Ev.RECV) events.push(String(ev));
        if (ev === SntpEv.TIME) time = data;
      });
      const end = Date.now() + 5000;
      while (events.indexOf(String(Ev.CLOSE)) < 0 && Date.now() < end) await sleep(5);
      assert.deepEqual(events, [String(Ev.CONNECT), String(SntpEv.TIME), String(Ev.CLOSE)]);
      assert.equal(time.stratum, 8);
      assert.ok(Math.abs(clock.now() - Date.now()) < 1000, 'chronyd serves this machine\'s clock: ' + (clock.now() - Date.now()));
      assert.ok(time.delayMs >= 0 && time.delayMs < 1000);
    } finally {
      mgr.shutdown();
    }
  });
});

describe('sntp client on Node', () => {
  test('a server name that does not resolve is SNTP_FAILED with the reason, then CLOSE', async () => {
    const udpBefore = process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
    const mgr = new Manager(new NodeDriver());
    mgr.run();
    try {
      const clock = new SntpClock(mgr);
      const events: number[] = [];
      let reason = '';
      sntpSync(mgr, 'no-such-host.invalid', clock, (c, ev, data) => {
        if (ev === Ev.ERROR || ev === Ev.CLOSE || ev >= 400) events.push(ev);
        if (ev === SntpEv.FAILED) reason = data;
      }, { timeoutMs: 20000, tries: 1 }); // far longer than name resolution takes: the failure must come from it
      const end = Date.now() + 15000;
      while (events.indexOf(Ev.CLOSE) < 0 && Date.now() < end) await sleep(5);
      assert.deepEqual(events.filter((ev) => ev !== Ev.ERROR), [SntpEv.FAILED, Ev.CLOSE]);
      assert.match(reason, /no-such-host\.invalid/);
      assert.equal(clock.synced, false);
      await sleep(50);
      assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length, udpBefore, 'the failed socket is closed, not left open');
    } finally {
      mgr.shutdown();
    }
  });
});

/** A ringnet SNTP server on a sim host whose clock reads `epoch + net.now`; `answer` decides per request. */
function simServer(net: SimNetwork, epoch: number, answer: (n: number, req: Uint8Array) => 'reply' | 'drop' | 'kiss' | 'wrong-nonce') {
  const mgr = new Manager(net.host('ntp'));
  mgr.run();
  let n = 0;
  mgr.listen('udp://0.0.0.0:123', (c, ev) => {
    if (ev !== Ev.RECV) return;
    const req = new Uint8Array(48);
    c.recv.copyTo(req, 0, 0, 48);
    const what = answer(n++, req);
    if (what === 'drop') return;
    const originate = { seconds: (req[40] * 16777216 + ((req[41] << 16) | (req[42] << 8) | req[43])) >>> 0, fraction: (req[44] * 16777216 + ((req[45] << 16) | (req[46] << 8) | req[47])) >>> 0 };
    if (what === 'wrong-nonce') originate.fraction ^= 1;
    const t = epoch + net.now;
    c.send(encodeReply(new Uint8Array(48), { leap: what === 'kiss' ? 3 : 0, version: 4, mode: 4, stratum: what === 'kiss' ? 0 : 1, originate, receiveMs: t, transmitMs: t, kissCode: what === 'kiss' ? 'DENY' : '' }));
  });
}

function simClient(net: SimNetwork) {
  const mgr = new Manager(net.host('device'));
  mgr.run();
  const clock = new SntpClock(mgr);
  const seen: { ev: number; data: any; at: number }[] = [];
  sntpSync(mgr, 'ntp', clock, (c, ev, data) => {
    if (ev === Ev.CONNECT || ev === Ev.CLOSE || ev >= 400) seen.push({ ev, data, at: net.now });
  }, { timeoutMs: 1000, tries: 3 });
  return { clock, seen };
}

describe('sntp client in the simulator', () => {
  const EPOCH = Date.UTC(2026, 10, 25);

  test('corrects for the path delay', () => {
    const net = new SimNetwork({ seed: 1, latencyMs: 40 });
    simServer(net, EPOCH, () => 'reply');
    const { clock, seen } = simClient(net);
    net.runFor(500);
    const time = seen.find((s) => s.ev === SntpEv.TIME);
    assert.ok(time, 'got the time');
    assert.ok(Math.abs(time.data.delayMs - 80) < 0.001, 'delay is the round trip less server time: ' + time.data.delayMs);
    assert.ok(Math.abs(clock.now() - (EPOCH + net.now)) < 0.01, 'clock matches the server');
  });

  test('retries after a lost request and ignores a reply to the wrong nonce', () => {
    const net = new SimNetwork({ seed: 1, latencyMs: 5 });
    simServer(net, EPOCH, (n) => (n === 0 ? 'drop' : n === 1 ? 'wrong-nonce' : 'reply'));
    const { clock, seen } = simClient(net);
    net.runFor(5000);
    assert.deepEqual(seen.map((s) => s.ev), [Ev.CONNECT, SntpEv.TIME, Ev.CLOSE]);
    assert.ok(seen[1].at > 2000, 'the third try answered');
    assert.ok(clock.synced);
  });

  test('gives up after every try with SNTP_FAILED, and a kiss-o\'-death is a refusal', () => {
    const net = new SimNetwork({ seed: 1 });
    simServer(net, EPOCH, () => 'drop');
    const { clock, seen } = simClient(net);
    net.runFor(10000);
    assert.deepEqual(seen.map((s) => s.ev), [Ev.CONNECT, SntpEv.FAILED, Ev.CLOSE]);
    assert.equal(seen[1].data, 'no reply');
    assert.ok(Math.abs(seen[1].at - 3000) < 20, 'three tries of one second');
    assert.equal(clock.now(), -1);

    const net2 = new SimNetwork({ seed: 1 });
    simServer(net2, EPOCH, () => 'kiss');
    const k = simClient(net2);
    net2.runFor(1000);
    assert.equal(k.seen[1].ev, SntpEv.FAILED);
    assert.equal(k.seen[1].data, 'server refused: DENY');
  });

  test('sntpKeep retries a failed sync after 10 s, doubling up to the hour, and once synced resyncs hourly', () => {
    const HOUR = 3600000;
    const net = new SimNetwork({ seed: 1, latencyMs: 5 });
    const up = 3 * HOUR; // the server answers nothing for three hours
    simServer(net, EPOCH, () => (net.now < up ? 'drop' : 'reply'));
    const mgr = new Manager(net.host('device'));
    mgr.run();
    const clock = new SntpClock(mgr);
    const starts: number[] = [];
    const ends: { ev: number; at: number }[] = [];
    sntpKeep(mgr, 'ntp', clock, (c, ev) => {
      if (ev === Ev.CONNECT) starts.push(net.now);
      if (ev === SntpEv.TIME || ev === SntpEv.FAILED) ends.push({ ev, at: net.now });
    }, { timeoutMs: 1000, tries: 3 });
    net.runFor(up + 2.5 * HOUR);
    const waits = starts.slice(1).map((t, k) => Math.round((t - ends[k].at) / 1000));
    const failed = ends.filter((e) => e.ev === SntpEv.FAILED).length;
    assert.deepEqual(waits.slice(0, 10), [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600], 'retries back off from 10 s');
    assert.ok(waits.slice(9, failed).every((w) => w === 3600), 'and stay at the hour: ' + waits);
    assert.equal(ends[failed].ev, SntpEv.TIME, 'synced once the server answers');
    assert.ok(clock.synced);
    assert.deepEqual(waits.slice(failed), [3600, 3600], 'then hourly');
    assert.deepEqual(ends.slice(failed).map((e) => e.ev), [SntpEv.TIME, SntpEv.TIME, SntpEv.TIME]);
  });

  test('sntpKeep with startMs makes its first request that much later, then keeps the same schedule', () => {
    const net = new SimNetwork({ seed: 2, latencyMs: 5 });
    simServer(net, EPOCH, () => 'reply');
    const mgr = new Manager(net.host('device'));
    mgr.run();
    const clock = new SntpClock(mgr);
    const starts: number[] = [];
    const begun = net.now;
    sntpKeep(mgr, 'ntp', clock, (c, ev) => {
      if (ev === Ev.CONNECT) starts.push(net.now - begun);
    }, { startMs: 3000 });
    net.runFor(2900);
    assert.equal(starts.length, 0, 'nothing before startMs');
    assert.ok(!clock.synced);
    net.runFor(1000);
    assert.equal(starts.length, 1);
    assert.ok(starts[0] >= 3000 && starts[0] < 3300, 'first request at ' + starts[0]);
    assert.ok(clock.synced);
  });
});
