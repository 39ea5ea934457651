/**
 * ringnet WebSocket client and server in the simulator: the wire cut into
 * 1–7 byte pieces, small rings, fragmentation both ways, ping/pong, close;
 * masking keys from the simulator's seeded source, so a seed replays the
 * same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Manager } from '../src/core/manager.js';
import { SimNetwork } from '../src/drivers/sim.js';
import { HttpEv } from '../src/protocols/http/events.js';
import { httpListen } from '../src/protocols/http/server.js';
import { wsConnect } from '../src/protocols/ws/client.js';
import { wsUpgrade } from '../src/protocols/ws/server.js';
import { WsEv } from '../src/protocols/ws/websocket.js';
import type { WebSocket, WsCloseInfo } from '../src/protocols/ws/websocket.js';

interface Run {
  serverGot: string[];
  clientGot: string[];
  clientClosed: WsCloseInfo | null;
  serverClosed: WsCloseInfo | null;
  pongs: number;
  /** The random bytes the client drew (handshake key, masking keys), for comparing runs. */
  random: string;
}

function run(seed: number): Run {
  const net = new SimNetwork({ seed, latencyMs: 2, jitterMs: 3, chunkMin: 1, chunkMax: 7 });
  const device = new Manager(net.host('device'), { pools: { default: { conns: 2, recvBytes: 512, sendBytes: 256 } } });
  const laptopHost = net.host('laptop');
  const laptop = new Manager(laptopHost, { pools: { default: { conns: 2, recvBytes: 512, sendBytes: 256 } } });
  const r: Run = { serverGot: [], clientGot: [], clientClosed: null, serverClosed: null, pongs: 0, random: '' };
  httpListen(device, 'http://0.0.0.0:80', (c, ev, req) => {
    if (ev === HttpEv.HEADERS && req.path === '/live') {
      wsUpgrade(req, (c2, ev2, d) => {
        if (ev2 === WsEv.MESSAGE) {
          const text = d.binary ? 'bin:' + d.data.length : d.text();
          if (text === 'bye?') d.ws.close(4000, 'bye!');
          else if (!d.ws.send('echo ' + text + ' ' + 'z'.repeat(120))) {
            d.deferUntilWritable(); // the last echo is still going out (3 fragments of 50): this one waits in the ring
            return;
          }
          r.serverGot.push(text);
        }
        if (ev2 === WsEv.CLOSED) r.serverClosed = d;
      }, { fragmentBytes: 50 });
    }
  });
  let ws: WebSocket | null = null;
  wsConnect(
    laptop,
    'ws://device/live',
    (c, ev, d) => {
      if (ev === WsEv.OPEN) {
        ws = d;
        ws.send('hello');
        ws.send(new Uint8Array(300)); // refused: the text is still going out
        ws.ping('p');
      } else if (ev === WsEv.WRITABLE) {
        if (r.clientGot.length === 0) d.send(new Uint8Array(300).fill(9)); // 300 bytes through a 256-byte ring: fragments
      } else if (ev === WsEv.MESSAGE) {
        r.clientGot.push(d.text().substring(0, 20));
        if (r.clientGot.length === 2) d.ws.send('bye?');
      } else if (ev === WsEv.PONG) r.pongs++;
      else if (ev === WsEv.CLOSED) r.clientClosed = d;
    },
    {
      fragmentBytes: 100,
      // the simulator's own seeded source, watched
      random: (into) => {
        laptopHost.randomBytes(into);
        r.random += Buffer.from(into).toString('hex');
      },
    },
  );
  device.run();
  laptop.run();
  assert.ok(net.runWhile(() => r.clientClosed !== null && r.serverClosed !== null, 60000), 'closed both ends');
  net.runFor(100);
  return r;
}

test('simulator: ringnet WebSocket client and server over a wire cut into 1–7 byte pieces', () => {
  const r = run(5);
  assert.deepEqual(r.serverGot, ['hello', 'bin:300', 'bye?']);
  assert.deepEqual(r.clientGot, ['echo hello zzzzzzzzz', 'echo bin:300 zzzzzzz']);
  assert.equal(r.pongs, 1);
  assert.deepEqual(r.clientClosed, { code: 4000, reason: 'bye!', remote: true });
  assert.deepEqual(r.serverClosed, { code: 4000, reason: 'bye!', remote: false });
});

test('simulator: masking keys come from the seeded source — the same seed replays them, another does not', () => {
  const a = run(21);
  const b = run(21);
  const c = run(22);
  assert.ok(a.random.length >= 2 * (16 + 64), 'a handshake key and a pool of masking keys');
  assert.equal(a.random, b.random);
  assert.notEqual(a.random, c.random);
});
