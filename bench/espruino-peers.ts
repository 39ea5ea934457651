/**
 * The esp8266 telemetry app (no dashboard) beside the same app written on
 * Espruino's own MQTT modules, each booted from flash on the ESP8266 build of
 * the interpreter (1,600 variables of 12 bytes) and publishing a JSON reading
 * a second to one mosquitto; the variables each holds after 8 s (after a
 * garbage collection), in the same run:
 *
 *   npm run compile
 *   ESPRUINO_ESP8266=<the interpreter> ESPRUINO_DOCS=<a checkout of espruino/EspruinoDocs> \
 *     node build/bench/espruino-peers.js
 *
 * The peers' modules (modules/tinyMQTT.js, QoS 0; modules/MQTT.js, here at
 * QoS 1) are read from that checkout and minified as the Espruino IDE uploads
 * them; nothing of them is in this repository. They keep no outbox, no clock
 * and no discovery configs, and resend nothing across a reconnect: the ratio
 * is what those cost, and what the rest of ringnet costs beside them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { minify } from 'terser';
import { buildBundle, deviceTargets } from '../src/cli/bundle.js';
import { startMosquitto } from '../src/cli/mosquitto.js';
import type { Mosquitto } from '../src/cli/mosquitto.js';
import { bootFromFlash } from '../test/support/espruino.js';
import { sleep } from '../test/support/wait.js';

const READING = 'JSON.stringify({id:"peer",seq:++seq,t:Date.now(),temp:null,analog:0,freeMem:process.memory(false).free})';

/** The peer app: the module cached as the IDE caches it, then a client publishing a reading a second. */
async function peerCode(docs: string, module: string, port: number): Promise<string> {
  const minified = (await minify(readFileSync(join(docs, 'modules', module + '.js'), 'utf8'), { ecma: 5 })).code || '';
  const app =
    module === 'tinyMQTT'
      ? 'var seq=0,m=require("tinyMQTT").create("127.0.0.1",{port:' + port + '});m.connect();' +
        'setInterval(function(){m.publish("ringnet/peer/telemetry",' + READING + ')},1000);'
      : 'var seq=0,m=require("MQTT").create("127.0.0.1",{port:' + port + ',client_id:"peer",keep_alive:60});m.connect();' +
        'setInterval(function(){m.publish("ringnet/peer/telemetry",' + READING + ',{qos:1})},1000);';
  // Connecting from a timer, not the boot code, as ringnet's bundle does.
  return 'Modules.addCached(' + JSON.stringify(module) + ',function(){' + minified + '});\nsetTimeout(function(){' + app + '},100);';
}

/** Boots `code`, counts the readings mosquitto forwards on `topic`, and returns the variables in use after 8 s. */
async function measure(bin: string, broker: Mosquitto, topic: string, code: string): Promise<{ usage: number; readings: number; bytes: number }> {
  let readings = 0;
  const sub = mqtt.connect(broker.url, { reconnectPeriod: 200 });
  await new Promise<void>((resolve) => sub.once('connect', () => sub.subscribe(topic, { qos: 1 }, () => resolve())));
  sub.on('message', () => readings++);
  const esp = await bootFromFlash({ bin: bin, code: code, env: {}, telnet: true });
  try {
    await sleep(8000);
    const m = await esp.memory();
    return { usage: m.usage, readings: readings, bytes: code.length };
  } finally {
    sub.end(true);
    await esp.close();
  }
}

async function main(): Promise<void> {
  const bin = process.env.ESPRUINO_ESP8266;
  const docs = process.env.ESPRUINO_DOCS;
  if (!bin || !docs) {
    console.error('usage: ESPRUINO_ESP8266=<the ESP8266 interpreter built for Linux> ESPRUINO_DOCS=<a checkout of EspruinoDocs> node build/bench/espruino-peers.js');
    process.exit(2);
  }
  const broker = await startMosquitto({ persistence: false });
  try {
    const port = Number(broker.url.substring(broker.url.lastIndexOf(':') + 1));
    const target = deviceTargets({ boards: ['esp8266'], apps: ['telemetry'], settings: { http: 0, broker: broker.url, id: 'peers', period: 1000 } })[0];
    const ours = await measure(bin, broker, 'ringnet/peers/telemetry', (await buildBundle({ ...target, file: undefined }, true)).code);
    const rows: [string, { usage: number; readings: number; bytes: number }][] = [['ringnet telemetry (QoS 1, outbox, reconnect, clock)', ours]];
    for (const module of ['tinyMQTT', 'MQTT']) rows.push([module + (module === 'MQTT' ? ' (QoS 1)' : ' (QoS 0)'), await measure(bin, broker, 'ringnet/peer/telemetry', await peerCode(docs, module, port))]);
    console.log('esp8266 interpreter, 1,600 variables, booted from flash; in use after GC 8 s later');
    for (const [name, r] of rows) {
      console.log('  ' + (name + ' '.repeat(52)).slice(0, 52) + String(r.usage).padStart(5) + ' variables  ' + String(r.bytes).padStart(6) + ' B  ' + r.readings + ' readings' + (r === ours ? '' : '  ratio ' + (ours.usage / r.usage).toFixed(1) + '×'));
    }
  } finally {
    await broker.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
