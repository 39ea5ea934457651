/**
 * The telemetry app on a board: `npm run build` makes dist/<board>/telemetry.js.
 * Settings (`--set key=value`): id (device id, default the board name),
 * broker (mqtt://host:port), ntp (host, default pool.ntp.org), http (port,
 * default 80; 0 leaves the dashboard out), period (ms, default 5000),
 * discovery (0: no Home Assistant discovery configs; default on), sntp
 * (`ringnet` or `firmware`: who keeps the clock; default the board's).
 * The dashboard page is read from Storage as dashboard.html(.gz); `ringnet
 * flash --app telemetry` uploads it.
 */
import board from 'ringnet:board';
import settings from 'ringnet:settings';
import type { PoolSpec } from '../../src/core/manager.js';
import { Manager } from '../../src/core/manager.js';
import { EspruinoDriver } from '../../src/drivers/espruino.js';
import { superviseWifi } from '../../src/drivers/espruino-wifi.js';
import { espruinoDatagrams } from '../../src/drivers/espruino-udp.js';
import { StorageFiles } from '../../src/drivers/espruino-files.js';
import { firmwareClock, firmwareSntp } from '../../src/drivers/espruino-sntp.js';
import { SntpClock, sntpKeep } from '../../src/protocols/sntp/client.js';
import { Telemetry } from './app.js';
import { deviceSensors } from './device-sensors.js';
import { Dashboard } from './web.js';

declare function require(name: string): any;

// Build-time constants: with `--set http=0` rollup leaves the dashboard (HTTP, WebSocket) out of the bundle, and
// with the firmware keeping the clock, ringnet's SNTP client and the datagram driver.
const httpPort = (settings.http === undefined ? 80 : settings.http) as number;
const firmwareTime = (settings.sntp || board.sntp) === 'firmware';
const driver = new EspruinoDriver({
  net: board.net,
  hasTls: board.hasTls,
  wifi: superviseWifi,
  wifiFile: board.wifiFile,
  datagrams: firmwareTime ? undefined : espruinoDatagrams(board.udp),
});
// Only the pools the bundle uses are allocated: `default` holds the dashboard's peers, `udp` ringnet's SNTP socket.
const pools: { [name: string]: PoolSpec } = { mqtt: board.pools.mqtt };
if (httpPort > 0) pools.default = board.pools.default;
if (!firmwareTime) pools.udp = board.pools.udp;
const mgr = new Manager(driver, { pools: pools, pollMs: board.pollMs });
const clock = firmwareTime ? firmwareClock : new SntpClock(mgr);
const ntpServer = String(settings.ntp || 'pool.ntp.org');
let dashboard: Dashboard | null = null;
let app: Telemetry;

function start(): void {
  app = new Telemetry(mgr, {
    deviceId: String(settings.id || board.name),
    broker: String(settings.broker || 'mqtt://192.168.1.2:1883'),
    sensors: deviceSensors(board.pins.analog),
    wallClock: clock, // the app asks it for now(): no closure around it
    periodMs: Number(settings.period || 5000),
    discovery: settings.discovery !== 0,
    mqtt: { pool: 'mqtt', outboxBytes: board.mqtt.outboxBytes, outboxCount: board.mqtt.outboxCount, maxInflight: board.mqtt.inflight },
    // Only with the dashboard: with `--set http=0` the bundle carries no function for it.
    onReading:
      httpPort > 0
        ? function (json) {
            if (dashboard) dashboard.broadcast(json);
          }
        : undefined,
  });
  if (!firmwareTime) {
    // Hourly; a failed sync (no Wi-Fi yet at boot, no DNS) is retried after 10 s, doubling up to the hour. The first
    // waits 3 s, so that the broker connection is made first: an ESP8266 ran out of memory making both at once.
    sntpKeep(mgr, ntpServer, clock as SntpClock, null, { pool: 'udp', startMs: 3000 });
  } else if (!firmwareSntp(ntpServer)) {
    console.log('telemetry: no Wi-Fi module, so no firmware SNTP: readings carry the clock the board has');
  }
  if (httpPort > 0) {
    dashboard = new Dashboard(mgr, {
      url: 'http://0.0.0.0:' + httpPort,
      files: new StorageFiles(require('Storage')),
      status: function () {
        return app.status();
      },
      http: { limits: board.http },
      ws: { maxMessage: board.ws.messageBytes, maxFragments: board.ws.fragments },
    });
  }
}

// Nothing connects inside the boot code: there a refused connect (Espruino throws it) would copy the whole boot
// code into RAM for its stack trace, and a board booted with the broker down ran out of memory. From the first
// poll on, a failed connect is only a CONNECT error, and the client retries.
mgr.timer(0, start, false);
mgr.run();
