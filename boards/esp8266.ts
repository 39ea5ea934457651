/**
 * ESP8266 (4 MB flash, e.g. NodeMCU / Wemos D1 mini) under Espruino.
 *
 * About 1,600 JsVars (≈ 25 KB) hold everything JavaScript owns, code included
 * unless it runs from flash, so the pools are small: 4 connections and about
 * 2.8 KB of rings. No TLS module exists on this port.
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
    // takes is what that peer's held data and in-flight strings needed.
    default: { conns: 2, recvBytes: 512, sendBytes: 512 },
    // The broker sends small packets (CONNACK, acks, a config message); what we send is larger (a reading, a
    // discovery config of about 310 bytes), and the outbox only sends what fits this ring whole.
    mqtt: { conns: 1, recvBytes: 256, sendBytes: 384 },
    // Datagrams: SNTP's 48 bytes, with ringnet's client (--set sntp=ringnet).
    udp: { conns: 1, recvBytes: 64, sendBytes: 66 },
  },
  pollMs: 100,
  // What one peer may take (the driver's peerVars: held, the chunk arriving over it, in flight, the piece being
  // written, plus overhead) must fit twice in what the echo leaves free on the 1,600-variable build: 1,664 held
  // and a peer 8 KB ahead ran it out of memory. 1,024 held and one chunk in flight come to 297 variables a peer.
  // The echo's rings hold one chunk each way (examples/echo/device.ts), 488 bytes a slot less than this board's
  // default ones, and the hold took those bytes over (536 before): a peer may be as far ahead as before, and they
  // take memory only while one is (the echo idles at 610, not 690). Two echo clients at once pass byte-exact, and
  // what the telemetry app's broker connection may hold (233) fits beside it. A peer further ahead gets ERROR(TOO_BIG).
  net: { chunkBytes: 268, inFlightBytes: 268, holdBytes: 1024 },
  udp: { datagramMax: 64, queue: 2 },
  http: { headerBytes: 512, headerCount: 12, bodyBytes: 512 },
  ws: { messageBytes: 256, fragments: 16 },
  mqtt: { packetMax: 256, outboxBytes: 768, outboxCount: 16, inflight: 4 },
  hasTls: false,
  // The firmware's SNTP client (Wifi.setSNTP) costs no variables: ringnet's client, its datagram driver and socket
  // were 153 of the telemetry app's after boot and 216 after 8 readings (1,211 / 1,323 -> 1,058 / 1,107 on the
  // 1,600-variable interpreter). The udp pool stays for apps that use datagrams (or --set sntp=ringnet).
  sntp: 'firmware',
  variables: 1600,
  variableBytes: 12,
  wifiFile: 'wifi.json',
  pins: { dht22: 'D5', led: 'D2', analog: 'A0' },
};

export default esp8266;
