/** Builds device bundles in memory for tests (each once per test process). */
import { join } from 'node:path';
import { boards } from '../../boards/index.js';
import { buildBundle, deviceTargets, ROOT } from '../../src/cli/bundle.js';
import type { BundleResult, Settings } from '../../src/cli/bundle.js';
import { boardSandboxOptions, EspruinoSandbox } from '../../src/cli/sandbox.js';
import type { SandboxOptions } from '../../src/cli/sandbox.js';

const cache = new Map<string, Promise<BundleResult>>();

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

/** The test probe (test/support/device/probe.ts) for a board. */
export function probeBundle(board: string, settings: Settings): Promise<BundleResult> {
  const key = board + '/probe' + JSON.stringify(settings);
  let p = cache.get(key);
  if (!p) {
    p = buildBundle({ board: boards[board], app: 'probe', entry: join(ROOT, 'test', 'support', 'device', 'probe.ts'), settings: settings, mainExport: 'main' });
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
