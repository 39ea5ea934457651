/**
 * `ringnet build [--board b] [--app a] [--out dir] [--set key=value] [--quiet]`:
 * bundles every app that has a device entry for every board (or those named)
 * into <out>/<board>/<app>.js, prints each bundle's budget table, and fails on
 * the first bundle the compatibility gate rejects.
 */
import { resolve } from 'node:path';
import { buildBundle, deviceTargets } from './bundle.js';
import type { BundleResult, Settings } from './bundle.js';
import { list, parseOptions, settings } from './options.js';

export interface BuildOptions {
  boards?: string[];
  apps?: string[];
  outDir?: string;
  settings?: Settings;
  quiet?: boolean;
}

/** Builds the bundles one after another (rollup and terser are CPU-bound; parallel builds gain nothing on 2 cores). */
export async function buildAll(options: BuildOptions): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const target of deviceTargets(options)) results.push(await buildBundle(target, !!options.quiet));
  return results;
}

export async function run(args: string[]): Promise<number> {
  const o = parseOptions(args, {
    board: { type: 'string', multiple: true },
    app: { type: 'string', multiple: true },
    out: { type: 'string' },
    set: { type: 'string', multiple: true },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (o.help) {
    console.log('usage: ringnet build [--board esp32,esp8266,host] [--app echo] [--out dist] [--set key=value] [--quiet]');
    return 0;
  }
  const results = await buildAll({
    boards: list(o.board),
    apps: list(o.app),
    outDir: typeof o.out === 'string' ? resolve(o.out) : undefined,
    settings: settings(o.set),
    quiet: !!o.quiet,
  });
  console.log('\n' + results.length + ' bundle(s) passed the Espruino gate.');
  return 0;
}
