/**
 * The echo app on a device: `npm run build` makes dist/<board>/echo.js from
 * this entry for every board. Listens on port 8000 (`--set port=N` changes it).
 */
import board from 'ringnet:board';
import settings from 'ringnet:settings';
import { Manager } from '../../src/core/manager.js';
import { EspruinoDriver } from '../../src/drivers/espruino.js';
import { superviseWifi } from '../../src/drivers/espruino-wifi.js';
import { startEcho } from './app.js';

const driver = new EspruinoDriver({ net: board.net, hasTls: board.hasTls, wifi: superviseWifi, wifiFile: board.wifiFile });
// Echo needs neither the MQTT pool nor the UDP one: on an ESP8266 their slots would take RAM it needs to serve. Its
// rings hold one network chunk each way, not the board's default: a byte relay has no message that must fit whole
// (HTTP's header does), and the rings are most of what the echo takes.
const chunk = board.net.chunkBytes;
const pool = { conns: board.pools.default.conns, recvBytes: chunk, sendBytes: chunk };
const mgr = new Manager(driver, { pools: { default: pool }, pollMs: board.pollMs });
startEcho(mgr, 'tcp://0.0.0.0:' + (settings.port || 8000));
mgr.run();
