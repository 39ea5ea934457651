/**
 * ESP8266 (4 MB flash, e.g. NodeMCU / Wemos D1 mini) under Espruino.
 *
 * About 1,600 JsVars (≈ 25 KB) hold everything JavaScript owns, code included
 * unless it runs from flash, so the pools are small: 4 connections and about
 * 3.3 KB of rings. No TLS module exists on this port.
 */
import type { BoardProfile } from './profile.js';

const esp8266: BoardProfile = {
  name: 'esp8266',
  espruinoBoard: 'ESP8266_4MB',
  baud: 115200,
  maxSockets: 10,
  pools: {
    // Two, not three: on the 1,600-variable build with 4 KB TCP buffers (lwIP-sized), the echo with three slots ran
    // out of memory under one peer that sent without reading, or kept 4 KB in flight; the 1 KB of rings a third slot
    // takes is what that peer's held data and in-flight strings needed. With two, both peers are served at once.
    default: { conns: 2, recvBytes: 512, sendBytes: 512 },
    mqtt: { conns: 1, recvBytes: 512, sendBytes: 512 },
    udp: { conns: 1, recvBytes: 128, sendBytes: 130 },
  },
  pollMs: 100,
  // Up to 3 network chunks arrive between two polls (measured on 2v29; the Linux build's chunks are 536 bytes),
  // so the hold must take 3 × 536 before the manager drains it into the rings. Held + in flight is what the
  // driver asks to be free before it accepts a peer: with 3 KB per peer a lone client was sometimes refused on the
  // 1,600-variable build; with 2.2 KB and two slots the echo serves two peers at once there.
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
