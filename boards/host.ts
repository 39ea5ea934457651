/**
 * A desktop: Node.js, the simulator, or Espruino's Linux build. Memory is
 * plentiful, so the limits are generous but still fixed; the link (no Wi-Fi)
 * is always up. Sized for Node: on Espruino's Linux build the echo app runs
 * (measured: 100 KB echoed byte-exact), but telemetry's 326 KB of rings and
 * 256 KB outbox fill its variables and it does not answer.
 */
import type { BoardProfile } from './profile.js';

const host: BoardProfile = {
  name: 'host',
  espruinoBoard: 'LINUX',
  baud: 115200,
  maxSockets: 64,
  pools: {
    default: { conns: 16, recvBytes: 8192, sendBytes: 8192 },
    mqtt: { conns: 2, recvBytes: 16384, sendBytes: 16384 },
    udp: { conns: 2, recvBytes: 1472, sendBytes: 1474 },
  },
  pollMs: 50,
  net: { chunkBytes: 536, inFlightBytes: 8192, holdBytes: 65536 },
  udp: { datagramMax: 1472, queue: 16 },
  http: { headerBytes: 8192, headerCount: 64, bodyBytes: 8192 },
  ws: { messageBytes: 8192, fragments: 128 },
  mqtt: { packetMax: 16384, outboxBytes: 262144, outboxCount: 1024, inflight: 32 },
  hasTls: true,
  sntp: 'ringnet',
  wifiFile: 'wifi.json',
  pins: { dht22: '', led: '', analog: '' },
};

export default host;
