/** The sandbox's `Wifi` module (only with `SandboxOptions.wifi`): a link the test takes down and up. */
import { closePipe, Emitter } from './network.js';
import type { Listener, NetworkHost } from './network.js';

/** What the Wi-Fi link uses of the sandbox (EspruinoSandbox in ../sandbox.ts). */
export interface WifiHost extends NetworkHost {
  readonly wifiModule: Emitter | null;
  readonly wifiJoins: string[];
  readonly sntpServers: string[];
}

/** The module `require("Wifi")` returns: getIP and connect over the test's link, and the ESP8266 port's setSNTP. */
export function wifiModule(sb: WifiHost): Emitter {
  const wifi = new Emitter(sb) as Emitter & { [k: string]: unknown };
  wifi.getIP = () => ({ ip: sb.wifiUp ? '192.168.4.2' : '0.0.0.0' });
  wifi.connect = (ssid: string, opts: unknown, cb?: Listener) => {
    sb.wifiJoins.push(ssid);
    if (cb) sb.queueCall(cb, sb.wifiUp ? null : 'no network');
  };
  // Checks its arguments as Espruino's ESP8266 port does (a server name, a zone offset of -11..13 hours); the clock
  // it would set is the sandbox's own.
  wifi.setSNTP = (server: unknown, zone: unknown) => {
    if (typeof zone !== 'number' || zone < -11 || zone > 13) throw new sb.realm.Error('Zone must be in range -11..13');
    if (typeof server !== 'string') throw new sb.realm.Error('Server is not a string');
    sb.sntpServers.push(server);
  };
  return wifi;
}

/** Wi-Fi goes down or comes up (needs `wifi: true`): `disconnected` / `connected` events. */
export function setWifi(sb: WifiHost, up: boolean): void {
  if (!sb.wifiModule) throw new Error('sandbox created without wifi');
  if (sb.wifiUp === up) return;
  sb.wifiUp = up;
  sb.wifiModule.emit(up ? 'connected' : 'disconnected', { ip: up ? '192.168.4.2' : '0.0.0.0' });
  if (!up) for (const p of sb.pipes) if (!p.done) closePipe(sb, p, true);
}
