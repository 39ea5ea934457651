/** Builds device bundles in memory for tests (each once per test process). */
import { join } from 'node:path';
import { boards } from '../../boards/index.js';
import { rollup } from 'rollup';
import type { OutputPlugin } from 'rollup';
import { buildBundle, deviceTargets, rollupOptions, ROOT } from '../../src/cli/bundle.js';
import type { BundleResult, Settings } from '../../src/cli/bundle.js';
import { boardSandboxOptions, EspruinoSandbox } from '../../src/cli/sandbox.js';
import type { SandboxOptions } from '../../src/cli/sandbox.js';

const cache = new Map<string, Promise<BundleResult>>();

/**
 * Settings for a target large enough for `app` on `board`: the telemetry app
 * does not fit a plain ESP8266 or ESP32 yet (the build refuses it, see
 * device-bundles.test.ts), so tests that run it on a device build name a
 * larger target, as a user with an ESP32 with PSRAM would.
 */
export function roomFor(board: string, app: string): Settings | undefined {
  return app === 'telemetry' && boards[board].variables ? { variables: 20000 } : undefined;
}

/** dist/<board>/<app>.js as `npm run build` makes it, without writing it. */
export function appBundle(board: string, app: string, settings?: Settings): Promise<BundleResult> {
  const key = board + '/' + app + JSON.stringify(settings || {});
  let p = cache.get(key);
  if (!p) {
    const target = deviceTargets({ boards: [board], apps: [app], settings: settings })[0];
    p = buildBundle({ ...target, file: undefined });
    cache.set(key, p);
  }
  return p;
}

/**
 * Minified bytes of dist/<board>/echo.js without the Espruino driver: the same
 * build with the driver module left out (an external, read as a global) and
 * every method the whole bundle keeps still kept (the core's socket-sink and
 * ring methods only the driver calls), so what remains is the core, the echo
 * app and the board data they read.
 */
export async function coreAndEchoBytes(board: string): Promise<number> {
  const whole = await appBundle(board, 'echo');
  const target = deviceTargets({ boards: [board], apps: ['echo'] })[0];
  const options = rollupOptions({ ...target, file: undefined, keepMethods: whole.keptMethods }, [], true);
  const driver = join(ROOT, 'src', 'drivers', 'espruino.ts');
  const wifi = join(ROOT, 'src', 'drivers', 'espruino-wifi.ts');
  options.external = (id: string) => id === driver || id === wifi;
  options.output.globals = { [driver]: 'EspruinoDriver', [wifi]: 'EspruinoWifi' };
  options.output.format = 'iife'; // the missing driver comes in as the wrapper's argument (a script cannot import)
  // Not a bundle to run (the driver is missing), so not one for the gate either.
  options.output.plugins = (options.output.plugins as OutputPlugin[]).filter((p) => p.name !== 'ringnet-gate');
  const build = await rollup(options);
  try {
    const { output } = await build.generate(options.output);
    return Buffer.byteLength(output[0].code);
  } finally {
    await build.close();
  }
}

/** The test probe (test/support/device/probe.ts) for a board. */
export function probeBundle(board: string, settings: Settings): Promise<BundleResult> {
  const key = board + '/probe' + JSON.stringify(settings);
  let p = cache.get(key);
  if (!p) {
    // The probe carries every driver path (client, UDP, Wi-Fi), more than an ESP8266 app would: a larger target.
    p = buildBundle({ board: boards[board], app: 'probe', entry: join(ROOT, 'test', 'support', 'device', 'probe.ts'), settings: { variables: 20000, ...settings }, mainExport: 'main' });
    cache.set(key, p);
  }
  return p;
}

/** A sandbox shaped like `board`, with `code` loaded. */
export function sandboxFor(board: string, code: string, extra?: Partial<SandboxOptions>): EspruinoSandbox {
  const b = boards[board];
  const sb = new EspruinoSandbox({ ...boardSandboxOptions(b), ...extra });
  sb.load(code, board + '.js');
  return sb;
}

/** Deterministic test bytes. */
export function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + (i >> 8) + (i >> 16)) & 255;
  return out;
}
