/**
 * The telemetry app: sample the sensors on a timer, publish each reading as
 * JSON with a sequence number at QoS 1 through the MQTT outbox (so a Wi-Fi
 * drop loses nothing), and take a new sample period from the config topic.
 * The same code runs on the device, on the host (`npm start`) and in fleets.
 */
import type { Manager } from '../../src/core/manager.js';
import type { Timer } from '../../src/core/timer.js';
import { MqttClient } from '../../src/protocols/mqtt/client.js';
import type { MqttOptions, MqttStats } from '../../src/protocols/mqtt/client.js';
import { MqttEv } from '../../src/protocols/mqtt/events.js';
import { utf8Decode, utf8Length } from '../../src/protocols/utf8.js';
import type { Sensors } from './sensors.js';

/**
 * Unix ms now, or -1 while unknown (before SNTP answers): a function, or an object whose now() says it (an
 * SntpClock as it is: no closure around it).
 */
export type WallClock = (() => number) | { now(): number };

export interface TelemetryOptions {
  /** A topic level: not empty, no `#`, `+` or `/` (the constructor throws otherwise). */
  deviceId: string;
  /** mqtt://host:port or mqtts://… */
  broker: string;
  sensors: Sensors;
  /**
   * Unix ms now, or -1 while unknown (before SNTP answers): a function, or an
   * object whose now() says it (an SntpClock as it is: no closure around it).
   */
  wallClock: WallClock;
  /** Sample period, ms (default 1000); the config topic can change it. */
  periodMs?: number;
  /** Client options: outbox sizes, keepalive, pool, store … (clientId and clean are set here). */
  mqtt?: MqttOptions;
  /** Each reading's JSON, as published (the dashboard's live feed). */
  onReading?: (json: string) => void;
  /** Told what the app refuses (a config message it cannot apply), one line each. */
  log?: (line: string) => void;
  /** Home Assistant MQTT discovery: a retained config per reading field under homeassistant/sensor/ (default true). */
  discovery?: boolean;
}

/** What /api/status answers, as JSON. @wire */
export interface TelemetryStatus {
  deviceId: string;
  uptimeMs: number;
  freeMem: number;
  mqtt: 'connected' | 'offline';
  periodMs: number;
  seq: number;
  /** Readings the broker acknowledged (PUBACK). */
  acked: number;
  /** Readings the broker has not acknowledged: queued, in flight, dropped, or refused by the client. */
  unacked: number;
  /** Why the last config message was not applied ('' once one is). */
  lastConfigError: string;
  outbox: MqttStats;
  reconnects: number;
  /** Ring bytes in use now over the arena allocated at start. */
  ringUse: string;
}

/** The period range the config topic may set. */
const MIN_PERIOD_MS = 100;
const MAX_PERIOD_MS = 3600000;

export function telemetryTopic(deviceId: string): string {
  return 'ringnet/' + deviceId + '/telemetry';
}

export function configTopic(deviceId: string): string {
  return 'ringnet/' + deviceId + '/config';
}

export class Telemetry {
  readonly client: MqttClient;
  seq = 0;
  /** PUBACKs: `seq - acked` is every reading not (yet) at the broker, whatever became of it. */
  acked = 0;
  periodMs: number;
  // Not `lastConfigError`, status()'s name, which the device build keeps long; unset until a config is refused.
  /** @internal */ configError?: string;
  /** @internal */ lastFreeMem = 0;
  private readonly startedAt: number;
  private timer: Timer | null = null;
  /** @internal */ readonly topic: string;
  /** @internal */ readonly configTopic: string;
  /**
   * @internal Home Assistant discovery configs still to publish (3: all; again after a CONNACK without our
   * session), one per sample, ahead of its reading; -1 with discovery off. (A number, not a boolean: one variable
   * on the device, not two.)
   */
  discover: number;
  // What the app reads of its options after the constructor: the options object itself is not kept (on the device
  // it would hold the broker URL and the constructor-only fields for the device's life).
  /** @internal */ readonly device: string;
  /** @internal */ readonly sensors: Sensors;
  // Spelled out, not TelemetryOptions['wallClock']: the device build keeps long every name a string literal spells.
  /** @internal */ readonly wallClock: WallClock;
  // Set only when given: an undefined field still costs a variable on the device.
  /** @internal */ readonly onReading?: (json: string) => void;
  /** @internal */ readonly log?: (line: string) => void;
  constructor(
    /** @internal */ readonly mgr: Manager,
    o: TelemetryOptions,
  ) {
    const id = o.deviceId;
    // Each would make every topic invalid or another device's: the client would refuse or misroute every reading.
    if (!id || id.indexOf('#') >= 0 || id.indexOf('+') >= 0 || id.indexOf('/') >= 0 || utf8Length(id) < 0) {
      throw new Error('device id "' + id + '" cannot be used in an MQTT topic: it must be non-empty, without #, + or / (or NUL)');
    }
    this.periodMs = o.periodMs || 1000;
    this.startedAt = mgr.driver.now();
    this.topic = telemetryTopic(id);
    this.configTopic = configTopic(id);
    this.discover = o.discovery !== false ? 3 : -1;
    this.device = id;
    this.sensors = o.sensors;
    this.wallClock = o.wallClock;
    if (o.onReading) this.onReading = o.onReading;
    if (o.log) this.log = o.log;
    const opts: MqttOptions = o.mqtt || {};
    opts.clientId = 'ringnet-' + id;
    opts.clean = false; // the broker keeps our QoS 1 exchanges across reconnects
    this.client = new MqttClient(mgr, o.broker, telemetryEvent, opts);
    this.client.userData = this;
    this.client.start();
    this.client.subscribe(this.configTopic, 1);
    this.timer = mgr.timer(this.periodMs, telemetryEvent, true, this);
  }

  /** Takes one reading and publishes it; returns its JSON. (The timer runs the same code; a device bundle leaves this wrapper out.) */
  sample(): string {
    return telemetryEvent(this) as string;
  }

  /**
   * Applies `{"periodMs": n}` (100 ms to 1 h) from the config topic. Anything
   * else is refused: the reason goes to `lastConfigError` and to `log`.
   */
  configure(text: string): void {
    let period = -1;
    let error = '';
    try {
      const cfg = JSON.parse(text);
      if (cfg && typeof cfg.periodMs === 'number') period = Math.round(cfg.periodMs);
      else error = 'no "periodMs" number in ' + text.substring(0, 60);
    } catch (e) {
      error = 'not JSON: ' + text.substring(0, 60);
    }
    if (!error && (period < MIN_PERIOD_MS || period > MAX_PERIOD_MS)) error = 'periodMs ' + period + ' is outside ' + MIN_PERIOD_MS + ' .. ' + MAX_PERIOD_MS + ' ms';
    this.configError = error || undefined;
    if (error) {
      if (this.log) this.log('config on ' + this.configTopic + ' refused: ' + error);
      return;
    }
    if (period === this.periodMs) return;
    this.periodMs = period;
    // Sample at the new period (also after pause(), as before), with the same function.
    if (this.timer) this.timer.cancel();
    this.timer = this.mgr.timer(this.periodMs, telemetryEvent, true, this);
  }

  status(): TelemetryStatus {
    const stats = this.client.stats();
    let used = 0;
    const conns = this.mgr.conns;
    for (let i = 0; i < conns.length; i++) used += conns[i].recv.length + conns[i].unsent.length;
    return {
      deviceId: this.device,
      uptimeMs: Math.round(this.mgr.driver.now() - this.startedAt),
      freeMem: this.lastFreeMem,
      mqtt: this.client.open ? 'connected' : 'offline',
      periodMs: this.periodMs,
      seq: this.seq,
      acked: this.acked,
      unacked: this.seq > this.acked ? this.seq - this.acked : 0,
      lastConfigError: this.configError || '',
      outbox: stats,
      reconnects: stats.reconnects,
      ringUse: used + '/' + this.mgr.arenaBytes + ' B',
    };
  }

  /** Stops sampling; the client stays connected and the outbox keeps draining. */
  pause(): void {
    if (this.timer) this.timer.cancel();
    this.timer = null;
  }

  /** Stops sampling and closes the client (pause() is not called: the device bundle then leaves it out). */
  stop(): void {
    if (this.timer) this.timer.cancel();
    this.timer = null;
    this.client.close();
  }
}

/**
 * The app's one function: the sample timer's (it gets the app: take one
 * reading and publish it) and the client's event handler (it gets the client,
 * whose userData is the app). Module-level, not a closure per app: on a device
 * each function object and the scope it keeps cost RAM.
 */
function telemetryEvent(x: Telemetry | MqttClient, ev?: number, data?: any): string | undefined {
  const self: Telemetry = ev === undefined ? (x as Telemetry) : (x as MqttClient).userData;
  const id = self.device;
  const m = self.client;
  if (ev === undefined) {
    // Home Assistant discovery: a retained config per field, one per sample and only while the outbox is empty:
    // queued there, they would push readings out of a small one. QoS 0: no PUBACK to count as a reading's. Here,
    // not in the CONNACK handler: there the protocol's stack and the received packet already hold memory, and an
    // ESP8266 ran out of it building all three configs at once. Inline, not a function per field: on the device each
    // function object costs RAM.
    if (self.discover > 0 && m.open && m.outbox.live === 0) {
      const k = 3 - self.discover--;
      const f = k === 0 ? 'temp' : k === 1 ? 'analog' : 'freeMem';
      const e = JSON.stringify(id); // quoted, and escaped where JSON must
      m.publish(
        'homeassistant/sensor/' + id + '_' + f + '/config',
        '{"name":"' + f + '","unique_id":' + e.substring(0, e.length - 1) + '_' + f + '","state_topic":"ringnet/' + e.substring(1, e.length - 1) +
          '/telemetry","value_template":"{{ value_json.' + f + ' }}",' + (k ? '' : '"device_class":"temperature","unit_of_measurement":"\u00b0C",') +
          '"state_class":"measurement","device":{"identifiers":[' + e + '],"name":' + e + '}}',
        0,
        true,
      );
    }
    const r = self.sensors.measure();
    self.seq++;
    self.lastFreeMem = r.freeMem;
    const w = self.wallClock;
    const json = JSON.stringify({ id: id, seq: self.seq, t: typeof w === 'function' ? w() : w.now(), temp: r.temp, analog: r.analog, freeMem: r.freeMem });
    m.publish(self.topic, json, 1);
    if (self.onReading) self.onReading(json);
    return json; // not kept: on the device a reading's text costs about 10 variables
  }
  if (ev === MqttEv.PUBACK) self.acked++;
  else if (ev === MqttEv.CONNACK) {
    if (!data.sessionPresent && self.discover >= 0) self.discover = 3; // a broker without our session may have lost retained messages too
  } else if (ev === MqttEv.MESSAGE && data.topic === self.configTopic) self.configure(utf8Decode(data.payload) || '');
  return undefined;
}
