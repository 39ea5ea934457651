/**
 * What a board is: plain data that every layer reads instead of guessing.
 *
 * A profile fixes, once, how much memory ringnet may take on that board
 * (connection pools: every ring is allocated at start from these numbers) and
 * the limits each protocol must enforce. The device build injects one profile
 * as the module `ringnet:board`; Node and simulator code import a profile
 * directly.
 */
import type { PoolSpec } from '../src/core/manager.js';

export interface NetLimits {
  /** Largest piece the interpreter hands JS in one `data` event (Espruino's network `chunkSize`). */
  chunkBytes: number;
  /**
   * Bytes written to one socket and not yet confirmed by a `drain`. Espruino's
   * `write()` always returns false, so this cap is the only thing that stops a
   * fast sender from piling its whole send ring into the interpreter's heap.
   */
  inFlightBytes: number;
  /**
   * Bytes the driver may hold for one socket between the interpreter's `data`
   * event and the manager's next read into the connection's ring. Espruino
   * cannot pause a socket, so a peer that outruns the device past this gets
   * its connection closed with ERROR(TOO_BIG) instead of exhausting memory.
   */
  holdBytes: number;
}

export interface UdpLimits {
  /** Largest datagram sent or accepted; larger ones are dropped and counted. */
  datagramMax: number;
  /** Datagrams held for the manager per socket before newer ones are dropped. */
  queue: number;
}

export interface HttpLimits {
  /** Request or response head (start line + headers), bytes. */
  headerBytes: number;
  /** Header lines. */
  headerCount: number;
  /** Largest body accepted in one piece (larger: 413, or streamed). */
  bodyBytes: number;
}

export interface WsLimits {
  /** Largest (reassembled) WebSocket message; larger closes with 1009. */
  messageBytes: number;
  /** Most frames one message may arrive in (a flood of tiny fragments costs a frame's work each); more closes with 1008. */
  fragments: number;
}

export interface MqttLimits {
  /** Largest MQTT packet sent or received (the MQTT pool's rings are at least this). */
  packetMax: number;
  /** Bytes of QoS 1/2 messages kept for retransmission while offline. */
  outboxBytes: number;
  /** Messages in the outbox. */
  outboxCount: number;
  /** Unacknowledged QoS 1/2 publishes in flight at once. */
  inflight: number;
}

/** Espruino pin names of the example sensors (`Pin(name)` on the device); '' where the board has none. */
export interface SensorPins {
  /** DHT22 temperature/humidity data line. */
  dht22: string;
  /** The on-board LED. */
  led: string;
  /** An analog input (light sensor divider). */
  analog: string;
}

export interface BoardProfile {
  /** The directory name under dist/ and the `--board` value. */
  name: string;
  /** Espruino's own board id, passed to the `espruino` CLI as `--board`. */
  espruinoBoard: string;
  /** Serial baud rate for uploads. */
  baud: number;
  /** Sockets the network stack has, listeners included. */
  maxSockets: number;
  /**
   * Connection pools, usable as `new Manager(driver, { pools: board.pools })`:
   * `default` for plain TCP, HTTP and WebSocket connections, `mqtt` for the
   * broker connection, `udp` for SNTP and other datagrams.
   */
  pools: { [name: string]: PoolSpec };
  /** Longest wait between polls (timers and POLL events rely on it). */
  pollMs: number;
  net: NetLimits;
  udp: UdpLimits;
  http: HttpLimits;
  ws: WsLimits;
  mqtt: MqttLimits;
  /** Whether `tls://`, `mqtts://` and `https://` work (ESP32 only: ESP8266 has no TLS module). */
  hasTls: boolean;
  /**
   * Who keeps the wall clock in the device apps: `ringnet`, the SNTP client in
   * src/protocols/sntp over a datagram socket; or `firmware`, the board
   * firmware's own client (`Wifi.setSNTP`, src/drivers/espruino-sntp.ts), so
   * that the bundle carries no SNTP code, datagram driver or socket.
   * `--set sntp=ringnet` (or `firmware`) overrides it for one build.
   */
  sntp: 'ringnet' | 'firmware';
  /**
   * Variables (JsVars) the interpreter has for everything JavaScript owns:
   * 1,600 on an ESP8266; an ESP32 sizes them from the heap Wi-Fi leaves at
   * boot (about 3,400 on a plain one, more with PSRAM). The build refuses a
   * bundle whose estimated RAM does not fit; `--set variables=N` names a
   * larger target. None on the host.
   */
  variables?: number;
  /** Bytes per variable on that interpreter (12 on an ESP8266, 14 on an ESP32): strings and buffers take bytes / this many. */
  variableBytes?: number;
  /** Storage file the device reads Wi-Fi credentials from: `{"ssid": "…", "password": "…"}`. */
  wifiFile: string;
  pins: SensorPins;
}
