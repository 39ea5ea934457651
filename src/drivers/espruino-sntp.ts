/**
 * The wall clock kept by the board's firmware: Espruino's ESP8266 port has an
 * SNTP client of its own (`Wifi.setSNTP`), which sets the interpreter's clock
 * and resyncs it every 30 s. A device app that uses it bundles no SNTP code,
 * datagram driver or socket (on the ESP8266 telemetry app that is about 230 of
 * the board's 1,600 variables). Boards whose profile says `sntp: 'firmware'`.
 *
 * The ESP8266 form is the one called: `setSNTP(server, zone)` with a zone
 * offset in hours (-11..13). Espruino's ESP32 port takes a TZ string there.
 */
import type { EspruinoProcess, EspruinoRequire } from './espruino-globals.js';

declare const require: EspruinoRequire;
declare const process: EspruinoProcess;

/** Unix ms before which the clock is taken as never set: Espruino's starts at 1970 plus the time since boot. */
const SET_AFTER_MS = 1.6e12;

/**
 * Asks the firmware to keep the clock from `server` (a host name or address,
 * no port: the firmware asks port 123). Returns whether the firmware has
 * Wi-Fi to do it with (Espruino's Linux build has none, and keeps the host's
 * clock). Call it from a timer, not from the boot code: a throw there copies
 * the boot code into RAM for its stack trace.
 */
export function firmwareSntp(server: string): boolean {
  const modules = process.env.MODULES;
  if (modules !== undefined && modules.split(',').indexOf('Wifi') < 0) return false;
  require('Wifi').setSNTP(server, 0); // UTC: the apps stamp Unix time
  return true;
}

/** The board's clock in Unix ms once something has set it, else -1 (the apps' "time unknown"). */
export function firmwareClock(): number {
  const now = Date.now();
  return now > SET_AFTER_MS ? now : -1;
}
