/**
 * The esp8266 telemetry app (no dashboard) left running on the ESP8266 build
 * of the Espruino interpreter (1,600 variables of 12 bytes), booted from
 * flash, publishing a reading a second to mosquitto, with the broker stopped
 * for 3 s halfway (it keeps its sessions on disk):
 *
 *   npm run compile
 *   ESPRUINO_ESP8266=<the interpreter> node build/bench/espruino-soak.js [seconds, default 600]
 *
 * It prints the variables in use (after a garbage collection) once a minute,
 * the lowest free memory any reading reported (the device's own
 * `process.memory(false)`, before collection: an underestimate), and at the
 * end which sequence numbers a persistent subscriber never got. Not a test:
 * ten minutes is too long for every run; test/device-interpreter holds the
 * same bundle to its figures in a shorter run. With SOAK_TRACE=1 it also
 * prints each reading as seq:freeMem, to see when the free memory moved.
 */
import mqtt from 'mqtt';
import { buildBundle, deviceTargets } from '../src/cli/bundle.js';
import { startMosquitto } from '../src/cli/mosquitto.js';
import { bootFromFlash } from '../test/support/espruino.js';
import { sleep } from '../test/support/wait.js';

async function main(): Promise<void> {
  const bin = process.env.ESPRUINO_ESP8266;
  if (!bin) {
    console.error('usage: ESPRUINO_ESP8266=<the ESP8266 interpreter built for Linux> node build/bench/espruino-soak.js [seconds]');
    process.exit(2);
  }
  const seconds = Number(process.argv[2] || 600);
  const broker = await startMosquitto({ persistence: true });
  const id = 'soak' + process.pid;
  const seqs: number[] = [];
  let lowest = Infinity;
  const sub = mqtt.connect(broker.url, { clean: false, clientId: 'sub-' + id, reconnectPeriod: 200 });
  await new Promise<void>((resolve) => sub.once('connect', () => sub.subscribe('ringnet/' + id + '/telemetry', { qos: 1 }, () => resolve())));
  // When the broker was stopped, and when the first reading taken after that reached the subscriber: how long the
  // device had to keep its readings (its outbox holds about 5 of them; one more drops the oldest, by design).
  let stoppedAt = 0;
  let stoppedSeq = 0;
  let backAfter = -1;
  sub.on('message', (_topic, payload) => {
    const r = JSON.parse(payload.toString());
    seqs.push(r.seq);
    if (stoppedAt && backAfter < 0 && r.seq > stoppedSeq) backAfter = (Date.now() - stoppedAt) / 1000;
    if (r.freeMem < lowest) lowest = r.freeMem;
    if (process.env.SOAK_TRACE) process.stdout.write(r.seq + ":" + r.freeMem + " ");
  });
  const target = deviceTargets({ boards: ['esp8266'], apps: ['telemetry'], settings: { http: 0, broker: broker.url, id: id, period: 1000, ntp: '127.0.0.1' } })[0];
  const bundle = await buildBundle({ ...target, file: undefined });
  const esp = await bootFromFlash({ bin: bin, code: bundle.code, env: {}, telnet: true });
  const started = Date.now();
  let restarted = false;
  let nextMinute = 60;
  try {
    while (Date.now() - started < seconds * 1000) {
      await sleep(1000);
      const s = (Date.now() - started) / 1000;
      if (!restarted && s >= seconds / 2) {
        restarted = true;
        stoppedSeq = seqs.length ? Math.max(...seqs) : 0;
        stoppedAt = Date.now();
        await broker.stop();
        await sleep(3000);
        await broker.restart();
        console.log(Math.round(s) + ' s: broker stopped, back 3 s later');
      }
      if (s >= nextMinute) {
        nextMinute += 60;
        const m = await esp.memory();
        console.log(Math.round(s) + ' s: ' + m.usage + ' variables in use (' + m.free + ' free), ' + seqs.length + ' readings, lowest free a reading reported ' + lowest);
      }
    }
    await sleep(3000);
    const got = new Set(seqs);
    const last = seqs.length ? Math.max(...seqs) : 0;
    const missing: number[] = [];
    for (let i = 1; i <= last; i++) if (!got.has(i)) missing.push(i);
    const trouble = esp.output.match(/OUT OF MEMORY|Uncaught[^\n]*|LOW_MEMORY/);
    console.log(
      seqs.length + ' readings over ' + seconds + ' s, seq 1 to ' + last + ', ' + missing.length + ' missing' + (missing.length ? ' (' + missing.slice(0, 20).join(',') + ')' : '') +
        ', ' + (seqs.length - got.size) + ' delivered twice; lowest free a reading reported ' + lowest + '; the interpreter printed ' + (trouble ? trouble[0] : 'no memory error'),
    );
    if (stoppedAt) {
      console.log(
        'the broker stopped after seq ' + stoppedSeq + '; the first reading after it arrived ' + (backAfter < 0 ? 'never' : backAfter.toFixed(1) + ' s later') +
          ' (the device reconnects with a backoff that doubles from 1 s, plus jitter; it takes a reading a second and its outbox holds about 5)',
      );
    }
  } finally {
    sub.end(true);
    await esp.close();
    await broker.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
