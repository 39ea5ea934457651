/**
 * Wi-Fi supervision for the Espruino driver: the link state the manager sees
 * (`linkUp()`, onLinkChange), joining with the credentials saved in Storage,
 * and rejoining every 10 s after a drop. Opt-in, like datagrams:
 * `new EspruinoDriver({ ..., wifi: superviseWifi, wifiFile: board.wifiFile })`;
 * a driver without it sees its link as always up (a board on Ethernet, or
 * Espruino's Linux build).
 *
 * Every callback handed to the interpreter catches what it throws (a
 * throwing callback can be dropped by the interpreter: a device that never
 * rejoins).
 */
import type { EspruinoDriver } from './espruino.js';
import type { EspruinoProcess, EspruinoRequire, EspruinoSetTimeout } from './espruino-globals.js';

declare const require: EspruinoRequire;
declare const setTimeout: EspruinoSetTimeout;
declare const process: EspruinoProcess;

const REJOIN_MS = 10000;

const enum WifiEvent {
  UP,
  /** Also anything else wifiEvent is given but null or undefined (see wifiEvent). */
  DOWN,
  /** Time to (re)join with the saved credentials. */
  JOIN,
}

/** What supervision keeps. */
interface Supervision {
  driver: EspruinoDriver;
  credentials: { ssid: string; password: string } | null;
  rejoinTimer: number | undefined;
}

// The one supervision (a board has one Wi-Fi), kept at module level so that what the interpreter calls back are
// plain functions: a closure made in superviseWifi would keep its whole scope alive (a closure kept 13 variables
// more than a plain function on the 2v29 interpreter, in the telemetry app's sensors).
let supervised: Supervision | undefined;

/** Starts supervising the board's Wi-Fi for `driver` (the driver calls it once, from its constructor). */
export function superviseWifi(driver: EspruinoDriver, file: string | undefined): void {
  // Whether the firmware has Wi-Fi (`process.env.MODULES` lists its built-in modules). Asking first keeps boot free
  // of a failed require(): an exception thrown while the bundle's outer function runs from flash copies that
  // function's code into RAM for the stack trace (measured on 2v29: 1,422 of an ESP8266's 1,600 variables for 15 KB
  // of code). An array search: 2v29's String indexOf also "finds" a needle whose start ends the string.
  const modules = process.env.MODULES;
  if (modules !== undefined && modules.split(',').indexOf('Wifi') < 0) return; // no Wi-Fi: the link stays up
  const wifi = require('Wifi');
  const ip = wifi.getIP();
  const s: Supervision = (supervised = { driver: driver, credentials: null, rejoinTimer: undefined });
  driver.link = !!(ip && ip.ip && ip.ip !== '0.0.0.0');
  wifi.on('connected', onConnected);
  wifi.on('disconnected', wifiEvent); // its details (an object) read as DOWN: no wrapper function
  if (file) {
    let saved: any = null;
    try {
      saved = require('Storage').readJSON(file, true);
    } catch (e) {
      // no Storage: keep whatever network the board has saved
    }
    if (saved && saved.ssid) s.credentials = { ssid: saved.ssid, password: saved.password || '' };
  }
  if (!driver.link) wifiEvent(WifiEvent.JOIN);
}

function onConnected(): void {
  wifiEvent(WifiEvent.UP);
}

/**
 * The link went up or down, or it is time to join. It is also the rejoin timer's function, the `disconnected`
 * handler (given the event's details, an object: DOWN) and Wifi.connect's callback (given null when the join
 * worked: nothing to do, the `connected` event follows; an error message when it failed: DOWN, so the next
 * attempt is scheduled). One function for all: each costs RAM on the device.
 */
function wifiEvent(event: WifiEvent | object | string | null | undefined): void {
  const s = supervised;
  if (!s || !(event || event === WifiEvent.UP)) return;
  const driver = s.driver;
  const c = s.credentials;
  try {
    if (event === WifiEvent.JOIN) {
      s.rejoinTimer = undefined;
      if (driver.link || !c) return;
      require('Wifi').connect(c.ssid, { password: c.password }, wifiEvent);
      return;
    }
    driver.link = event === WifiEvent.UP;
    if (!driver.link && s.rejoinTimer === undefined && c) s.rejoinTimer = setTimeout(wifiEvent, REJOIN_MS, WifiEvent.JOIN);
    driver.wake(0); // the manager sees the change (onLinkChange) in its next poll
  } catch (e) {
    driver.errors++;
    driver.lastError = String(e);
  }
}
