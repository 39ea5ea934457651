/**
 * A device entry for tests: the MQTT client on the Espruino driver with the
 * board's pools and MQTT limits, printing what happens as `mqtt <what> [data]`
 * lines. It subscribes to cmd/#, answers each command on echo/<topic>, and
 * publishes a counter on `tele` every 500 ms, `settings.count` times, at QoS 1.
 * Exports `main` (the build calls it with the board and settings).
 */
import type { BoardProfile } from '../../../boards/profile.js';
import { Manager } from '../../../src/core/manager.js';
import { EspruinoDriver } from '../../../src/drivers/espruino.js';
import { superviseWifi } from '../../../src/drivers/espruino-wifi.js';
import { mqttConnect, MqttEv } from '../../../src/protocols/mqtt/index.js';
import { utf8Decode } from '../../../src/protocols/utf8.js';

declare const console: { log(line: string): void };

function log(what: string, data?: string | number): void {
  console.log('mqtt ' + what + (data === undefined ? '' : ' ' + data));
}

export function main(board: BoardProfile, settings: { [key: string]: string | number | undefined }): void {
  const driver = new EspruinoDriver({ net: board.net, hasTls: board.hasTls, wifi: superviseWifi, wifiFile: board.wifiFile });
  const mgr = new Manager(driver, { pools: board.pools, pollMs: board.pollMs });
  const l = board.mqtt;
  const m = mqttConnect(
    mgr,
    'mqtt://127.0.0.1:' + settings.brokerPort,
    function (client, ev, data) {
      if (ev === MqttEv.CONNACK) log('connack', data.returnCode + ' ' + data.sessionPresent);
      else if (ev === MqttEv.SUBACK) log('suback', data.topic + ' ' + data.qos);
      else if (ev === MqttEv.MESSAGE) {
        log('message', data.topic + ' ' + utf8Decode(data.payload) + ' ' + data.qos);
        client.publish('echo/' + data.topic, data.payload, 1);
      } else if (ev === MqttEv.DROPPED) log('dropped', data.topic);
      else if (ev === MqttEv.ERROR) log('error', data.code);
      else if (ev === MqttEv.CLOSE) log('close');
    },
    { clientId: 'probe-' + board.name, clean: false, keepalive: 5, pool: 'mqtt', outboxBytes: l.outboxBytes, outboxCount: l.outboxCount, maxInflight: l.inflight, maxPacket: l.packetMax, reconnectMinMs: 200, reconnectMaxMs: 800, linkCheckMs: 100 },
  );
  m.subscribe('cmd/#', 1);
  let n = 0;
  const count = Number(settings.count || 10);
  mgr.timer(
    500,
    function () {
      if (n < count) m.publish('tele', String(n++), 1);
    },
    true,
  );
  mgr.run();
  log('started', board.name);
}
