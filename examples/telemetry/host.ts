/**
 * `npm start`: the telemetry app on this computer, as it runs on a board —
 * the same app code on the Node driver, with simulated sensors, an embedded
 * MQTT broker (aedes) and the dashboard. Nothing else needs to be installed
 * or running.
 *
 * Environment: HTTP_PORT (default 8080), MQTT_PORT (default 1883),
 * DEVICE_ID (default "host"), PERIOD_MS (1000), DISCOVERY (0: no Home
 * Assistant discovery configs). When a port is busy a free
 * one is taken, and the lines printed at start say so and give the real one.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import host from '../../boards/host.js';
import { Ev } from '../../src/core/events.js';
import { Manager } from '../../src/core/manager.js';
import { FolderFiles } from '../../src/drivers/node-files.js';
import { NodeDriver } from '../../src/drivers/node.js';
import { Telemetry } from './app.js';
import { simulatedSensors } from './sensors.js';
import { DASHBOARD_FILE, Dashboard } from './web.js';

const here = dirname(fileURLToPath(import.meta.url)); // build/examples/telemetry
const source = join(here, '..', '..', '..', 'examples', 'telemetry', 'storage');

/** Listens on `port`, or on a free port when it is busy; resolves to the port taken. */
function listenOn(server: net.Server, port: number, env: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (e.code === 'EADDRINUSE' && port !== 0) resolve(listenOn(server, 0, env));
      else reject(new Error('cannot listen on 127.0.0.1:' + port + ' (' + e.message + '); set ' + env + ' to another port'));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

async function main(): Promise<void> {
  const { Aedes } = (await import('aedes')) as any;
  const broker = await Aedes.createBroker();
  const brokerServer = net.createServer(broker.handle);
  const wantMqtt = Number(process.env.MQTT_PORT || 1883);
  const mqttPort = await listenOn(brokerServer, wantMqtt, 'MQTT_PORT');
  // The dashboard listens on the manager, which reports a failed bind only later, as an
  // ERROR: so find its port the same way first, with a socket closed again at once.
  const wantHttp = Number(process.env.HTTP_PORT || 8080);
  const probe = net.createServer();
  const httpPort = await listenOn(probe, wantHttp, 'HTTP_PORT');
  await new Promise((resolve) => probe.close(resolve));

  // The page as the device stores it: plain and gzipped, in a folder the HTTP server reads.
  const www = join(here, 'www');
  mkdirSync(www, { recursive: true });
  copyFileSync(join(source, DASHBOARD_FILE), join(www, DASHBOARD_FILE));
  writeFileSync(join(www, DASHBOARD_FILE + '.gz'), gzipSync(readFileSync(join(source, DASHBOARD_FILE)), { level: 9 }));

  const mgr = new Manager(new NodeDriver(), { pools: host.pools, pollMs: host.pollMs });
  const deviceId = process.env.DEVICE_ID || 'host';
  let dashboard: Dashboard | null = null;
  const app = new Telemetry(mgr, {
    deviceId,
    broker: 'mqtt://127.0.0.1:' + mqttPort,
    sensors: simulatedSensors(Date.now() & 0xffff, () => Math.round(process.memoryUsage().heapUsed / 1024)),
    wallClock: () => Date.now(), // the host's clock is already synchronized; the device uses SNTP
    periodMs: Number(process.env.PERIOD_MS || 1000),
    discovery: process.env.DISCOVERY !== '0',
    mqtt: { pool: 'mqtt', outboxBytes: host.mqtt.outboxBytes, outboxCount: host.mqtt.outboxCount, maxInflight: host.mqtt.inflight },
    onReading: (json) => dashboard && dashboard.broadcast(json),
    log: (line) => console.log(line),
  });
  dashboard = new Dashboard(mgr, {
    url: 'http://127.0.0.1:' + httpPort,
    files: new FolderFiles(www),
    status: () => app.status(),
    http: { limits: host.http },
    ws: { maxMessage: host.ws.messageBytes, maxFragments: host.ws.fragments },
  });
  // Should the port be taken after all (between the probe and this bind), say so and stop.
  const listener = dashboard.listener!;
  const serve = listener.handler;
  listener.handler = function (c, ev, data) {
    if (c === listener && ev === Ev.ERROR) {
      console.error('ringnet telemetry: the dashboard cannot listen on 127.0.0.1:' + httpPort + ' (' + data.message + '); set HTTP_PORT to a free port');
      process.exit(1);
    }
    if (serve) serve(c, ev, data);
  };
  mgr.run();
  const busy = (want: number, got: number, env: string) => {
    if (want && got !== want) console.log('             (port ' + want + ' is busy, so a free one was taken; ' + env + ' sets another)');
  };
  console.log('ringnet telemetry on the host');
  console.log('  dashboard  http://127.0.0.1:' + httpPort + '/');
  busy(wantHttp, httpPort, 'HTTP_PORT');
  console.log('  broker     mqtt://127.0.0.1:' + mqttPort + '   (readings on ringnet/' + deviceId + '/telemetry, config on ringnet/' + deviceId + '/config)');
  busy(wantMqtt, mqttPort, 'MQTT_PORT');
  console.log('Ctrl-C stops it.');

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    app.stop();
    mgr.shutdown();
    brokerServer.close();
    broker.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error('ringnet telemetry: ' + (e instanceof Error ? e.message : String(e)));
  process.exit(1);
});
