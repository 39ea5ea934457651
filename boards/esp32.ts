/**
 * ESP32 (e.g. DevKitC / WROOM-32) under Espruino.
 *
 * The JsVar pool is sized from free heap at boot (thousands of variables);
 * TLS needs 47–70 KB of native heap left free, so the rings stay near 20 KB:
 * 6 connections. The network stack has 10 sockets, listeners included.
 */
import type { BoardProfile } from './profile.js';

const esp32: BoardProfile = {
  name: 'esp32',
  espruinoBoard: 'ESP32',
  baud: 115200,
  maxSockets: 10,
  pools: {
    // 1 KB each way: an HTTP head or a WebSocket message of the limits below fits, and on a plain ESP32's 3,400
    // variables the echo leaves room for two peers at their worst (8 KB of rings are about 590 variables).
    default: { conns: 4, recvBytes: 1024, sendBytes: 1024 },
    mqtt: { conns: 1, recvBytes: 2048, sendBytes: 2048 },
    udp: { conns: 1, recvBytes: 512, sendBytes: 514 },
  },
  pollMs: 100,
  // Four chunks held and two in flight per peer: the driver asks for about 450 variables free before it takes one.
  net: { chunkBytes: 536, inFlightBytes: 1072, holdBytes: 2144 },
  udp: { datagramMax: 512, queue: 4 },
  http: { headerBytes: 1024, headerCount: 24, bodyBytes: 1024 },
  ws: { messageBytes: 1024, fragments: 32 },
  mqtt: { packetMax: 2048, outboxBytes: 8192, outboxCount: 64, inflight: 8 },
  hasTls: true,
  // ringnet's client: the interpreter test syncs it from a real NTP server (the Linux build has no Wi-Fi module, so
  // the firmware's could not be run there), and a plain ESP32 has the room.
  sntp: 'ringnet',
  // A plain ESP32 (no PSRAM) with Wi-Fi on; boards with PSRAM have far more: `--set variables=N`.
  variables: 3400,
  variableBytes: 14,
  wifiFile: 'wifi.json',
  pins: { dht22: 'D4', led: 'D2', analog: 'D36' },
};

export default esp32;
