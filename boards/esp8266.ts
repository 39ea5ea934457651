/**
 * ESP8266 (4 MB flash, e.g. NodeMCU / Wemos D1 mini) under Espruino.
 *
 * About 1,600 JsVars (≈ 25 KB) hold everything JavaScript owns, code included
 * unless it runs from flash, so the pools are small: 5 connections and about
 * 4.7 KB of rings. No TLS module exists on this port.
 */
import type { BoardProfile } from './profile.js';

const esp8266: BoardProfile = {
  name: 'esp8266',
  espruinoBoard: 'ESP8266_4MB',
  baud: 115200,
  maxSockets: 10,
  pools: {
    default: { conns: 3, recvBytes: 512, sendBytes: 512 },
    mqtt: { conns: 1, recvBytes: 512, sendBytes: 512 },
    udp: { conns: 1, recvBytes: 128, sendBytes: 130 },
  },
  pollMs: 100,
  // Up to 3 network chunks arrive between two polls (measured on 2v29; the Linux build's chunks are 536 bytes),
  // so the hold must take 3 × 536 before the manager drains it into the rings. Held + in flight is what the
  // driver asks to be free before it accepts a peer: on the 1,600-variable build the echo app idles with about
  // 3.9 KB free, and with 3 KB per peer a client was sometimes refused; 2.2 KB serves one peer at a time.
  net: { chunkBytes: 268, inFlightBytes: 536, holdBytes: 1664 },
  udp: { datagramMax: 128, queue: 2 },
  http: { headerBytes: 512, headerCount: 12, bodyBytes: 512 },
  ws: { messageBytes: 256 },
  mqtt: { packetMax: 512, outboxBytes: 1024, outboxCount: 16, inflight: 4 },
  hasTls: false,
  wifiFile: 'wifi.json',
  pins: { dht22: 'D5', led: 'D2', analog: 'A0' },
};

export default esp8266;
