/**
 * The MQTT client as a device bundle: built for each board by the device
 * build (so it passes the Espruino compatibility gate), then run in the
 * Espruino-shaped sandbox (string sockets in the board's network chunks,
 * write() that returns false then drain, Wi-Fi that drops) against a small
 * broker on the test side that speaks through ringnet's codec.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { boards } from '../boards/index.js';
import { buildBundle, ROOT } from '../src/cli/bundle.js';
import type { SandboxPeer } from '../src/cli/sandbox.js';
import { Ring } from '../src/core/ring.js';
import { decode, encode, PacketType } from '../src/protocols/mqtt/codec.js';
import type { Message, Packet } from '../src/protocols/mqtt/codec.js';
import { sandboxFor } from './support/device-build.js';

const BROKER_PORT = 1883;
const COUNT = 30;

/** What the test-side broker saw. */
interface Seen {
  connects: { clientId: string; clean: boolean }[];
  tele: { value: number; dup: boolean }[];
  echoes: string[];
  pings: number;
  errors: string[];
}

/** A broker on the sandbox's test side: CONNACK, SUBACK (then a command), PUBACK, PINGRESP. */
function broker(seen: Seen): (peer: SandboxPeer) => void {
  let sessionExists = false;
  return (peer) => {
    const inbox = new Ring(4096);
    let nextId = 1;
    const send = (p: Packet) => {
      const r = new Ring(encode(p, null));
      encode(p, r);
      peer.write(r.bytes);
    };
    peer.onData = (chunk) => {
      if (inbox.write(chunk) < chunk.length) seen.errors.push('broker inbox overflow');
      for (let p = decode(inbox, 4096); p; p = decode(inbox, 4096)) {
        switch (p.type) {
          case 0:
            seen.errors.push(p.message);
            return;
          case PacketType.CONNECT:
            seen.connects.push({ clientId: p.clientId, clean: p.clean });
            send({ type: PacketType.CONNACK, sessionPresent: sessionExists && !p.clean, returnCode: 0 });
            sessionExists = true;
            break;
          case PacketType.SUBSCRIBE:
            send({ type: PacketType.SUBACK, id: p.id, codes: p.qos });
            send({ type: PacketType.PUBLISH, topic: 'cmd/led', payload: 'on', qos: 1, retain: false, dup: false, id: nextId++ });
            break;
          case PacketType.PUBLISH: {
            const m = p as Message;
            if (m.topic === 'tele') seen.tele.push({ value: +Buffer.from(m.payload).toString(), dup: m.dup });
            else seen.echoes.push(m.topic + ' ' + Buffer.from(m.payload).toString());
            if (m.qos === 1) send({ type: PacketType.PUBACK, id: m.id });
            break;
          }
          case PacketType.PINGREQ:
            seen.pings++;
            send({ type: PacketType.PINGRESP });
            break;
          case PacketType.PUBACK:
          case PacketType.DISCONNECT:
            break;
          default:
            seen.errors.push('unexpected packet type ' + p.type);
        }
      }
    };
  };
}

for (const board of ['esp8266', 'esp32']) {
  test('device bundle (' + board + '): the MQTT client passes the gate and keeps every reading through a Wi-Fi drop in the sandbox', async () => {
    // The MQTT client does not fit a plain ESP8266's variables yet (the build refuses it there): a larger target.
    const settings = { brokerPort: BROKER_PORT, count: COUNT, variables: 20000 };
    const r = await buildBundle({ board: boards[board], app: 'mqtt-probe', entry: join(ROOT, 'test', 'support', 'device', 'mqtt-probe.ts'), settings: settings, mainExport: 'main' });
    assert.doesNotMatch(r.code, /\bimport\b|\bexport\b/);
    const sb = sandboxFor(board, r.code, { wifi: true });
    const seen: Seen = { connects: [], tele: [], echoes: [], pings: 0, errors: [] };
    sb.listen(BROKER_PORT, broker(seen));
    sb.runUntil(() => seen.tele.length >= 5, 10000);
    assert.deepEqual(seen.echoes, ['echo/cmd/led on'], 'the command came in at QoS 1 and its answer went out');
    sb.setWifi(false); // the socket dies; readings keep coming into the outbox
    sb.runFor(4000);
    sb.setWifi(true);
    assert.ok(
      sb.runUntil(() => new Set(seen.tele.map((t) => t.value)).size === COUNT, 30000),
      'all readings at the broker: ' + seen.tele.map((t) => t.value).join(','),
    );
    sb.runFor(6000); // idle long enough for a keepalive
    assert.deepEqual(sb.errors, []);
    assert.deepEqual(seen.errors, []);
    const firsts: number[] = [];
    for (const t of seen.tele) if (firsts.indexOf(t.value) < 0) firsts.push(t.value);
    assert.deepEqual(firsts, Array.from({ length: COUNT }, (_, i) => i), 'each reading, first arrivals in order');
    assert.ok(seen.connects.length >= 2, 'reconnected after the drop');
    assert.deepEqual(seen.connects[0], { clientId: 'probe-' + board, clean: false });
    assert.ok(seen.pings >= 1, 'keepalive pings when idle');
    const lines = sb.output.filter((l) => l.indexOf('mqtt ') === 0);
    assert.equal(lines[0], 'mqtt started ' + board);
    assert.ok(lines.indexOf('mqtt connack 0 false') >= 0 && lines.indexOf('mqtt connack 0 true') >= 0);
    assert.ok(lines.indexOf('mqtt message cmd/led on 1') >= 0);
    assert.equal(lines.filter((l) => l.indexOf('mqtt dropped') === 0).length, 0);
  });
}
