/** Command-line parsing shared by the verbs (node:util parseArgs plus `--set key=value`). */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Settings } from './bundle.js';

export type OptionSpec = { [name: string]: { type: 'string' | 'boolean'; multiple?: boolean; short?: string } };
export type OptionValues = { [name: string]: string | string[] | boolean | undefined };

/** Parses `args`; unknown options and stray positionals throw with a message naming them. */
export function parseOptions(args: string[], spec: OptionSpec): OptionValues {
  return parseArgs({ args: args, options: spec, allowPositionals: false, strict: true }).values as OptionValues;
}

/** As parseOptions, and also returns the positional arguments (for verbs that take paths). */
export function parseWithPositionals(args: string[], spec: OptionSpec): { values: OptionValues; positionals: string[] } {
  const r = parseArgs({ args: args, options: spec, allowPositionals: true, strict: true });
  return { values: r.values as OptionValues, positionals: r.positionals };
}

/** `a,b` and repeated options as one list. */
export function list(value: string | string[] | boolean | undefined): string[] | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const all = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const v of all) for (const part of v.split(',')) if (part.trim()) out.push(part.trim());
  return out;
}

export interface SettingSpec {
  type: 'number' | 'string';
  about: string;
  /** The only values a string setting takes. */
  values?: string[];
}

/**
 * Every `--set` key a device entry reads (as `settings.<key>` from
 * `ringnet:settings`), its type and meaning. One table, so that a typo or a
 * wrong value is an error at build time rather than a default on the board.
 */
export const SETTINGS: { [key: string]: SettingSpec } = {
  port: { type: 'number', about: 'TCP port the app listens on (echo and the `ringnet init` app: 8000)' },
  id: { type: 'string', about: 'device id (telemetry: the board name)' },
  broker: { type: 'string', about: 'MQTT broker, mqtt://host:port (telemetry: mqtt://192.168.1.2:1883)' },
  ntp: { type: 'string', about: 'NTP server host (telemetry: pool.ntp.org)' },
  sntp: { type: 'string', about: "who keeps the clock: ringnet (its SNTP client) or firmware (Wifi.setSNTP); default the board's", values: ['ringnet', 'firmware'] },
  http: { type: 'number', about: 'dashboard HTTP port, 0 leaves the dashboard out (telemetry: 80)' },
  period: { type: 'number', about: 'sample period in ms (telemetry: 5000)' },
  variables: { type: 'number', about: 'interpreter variables of the target, for the RAM check (e.g. an ESP32 with PSRAM: 20000)' },
};

/** The settings table as help text, one key a line. */
export function settingsHelp(): string {
  return Object.keys(SETTINGS)
    .map((k) => '    ' + (k + ' (' + SETTINGS[k].type + ')                  ').slice(0, 22) + SETTINGS[k].about)
    .join('\n');
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** `--set key=value` pairs, checked against SETTINGS: an unknown key or a value of the wrong type throws naming it. */
export function settings(value: string | string[] | boolean | undefined): Settings {
  const out: Settings = {};
  for (const pair of list(value) || []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error('--set expects key=value, got "' + pair + '"');
    const key = pair.substring(0, eq);
    const v = pair.substring(eq + 1);
    const spec = SETTINGS[key];
    if (!spec) throw new Error('--set ' + key + ': unknown setting (known: ' + Object.keys(SETTINGS).join(', ') + ')');
    if (spec.type === 'number') {
      if (!NUMBER.test(v)) throw new Error('--set ' + key + '=' + v + ': ' + key + ' is a number (' + spec.about + ')');
      out[key] = Number(v);
    } else if (spec.values && spec.values.indexOf(v) < 0) {
      throw new Error('--set ' + key + '=' + v + ': ' + key + ' is one of ' + spec.values.join(', '));
    } else out[key] = v; // a string setting stays a string, even `id=42`
  }
  return out;
}

export interface WifiCredentials {
  ssid: string;
  password: string;
}

/**
 * Reads and checks a Wi-Fi credentials file as the board's driver reads it
 * (`{"ssid": "…", "password": "…"}`): a file the board could not use is an
 * error here, naming the file and the key, not a board that never joins.
 */
export function readWifiFile(path: string): WifiCredentials {
  if (!existsSync(path)) throw new Error('no Wi-Fi credentials file ' + path);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(path + ': not valid JSON (' + (e instanceof Error ? e.message : String(e)) + '); expected {"ssid": "…", "password": "…"}');
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error(path + ': expected an object {"ssid": "…", "password": "…"}');
  const o = data as { [key: string]: unknown };
  for (const key of Object.keys(o))
    if (key !== 'ssid' && key !== 'password') throw new Error(path + ': unknown key "' + key + '" (only "ssid" and "password")');
  if (typeof o.ssid !== 'string' || !o.ssid) throw new Error(path + ': "ssid" must be a non-empty string');
  if (o.ssid.length > 32) throw new Error(path + ': "ssid" is ' + o.ssid.length + ' characters; Wi-Fi allows 32');
  if (o.password !== undefined && typeof o.password !== 'string') throw new Error(path + ': "password" must be a string');
  const pw = (o.password as string | undefined) || '';
  // WPA2 passphrases are 8 to 63 characters; an empty one is an open network.
  if (pw && (pw.length < 8 || pw.length > 63)) throw new Error(path + ': "password" is ' + pw.length + ' characters; WPA2 needs 8 to 63 (or "" for an open network)');
  return { ssid: o.ssid, password: pw };
}
