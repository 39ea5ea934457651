/**
 * `ringnet build [--board b] [--app a] [--out dir] [--set key=value] [--quiet]`:
 * bundles every app that has a device entry for every board (or those named)
 * into <out>/<board>/<app>.js, prints each bundle's budget table, and fails on
 * the first bundle the compatibility gate rejects. A bundle that does not fit
 * its board's memory is refused without stopping the others: every target
 * that fits is written, and then the build fails naming each refusal.
 */
import { resolve } from 'node:path';
import { buildBundle, deviceTargets, DOES_NOT_FIT } from './bundle.js';
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
  const refused: string[] = [];
  for (const target of deviceTargets(options)) {
    try {
      results.push(await buildBundle(target, !!options.quiet));
    } catch (e) {
      if (!e || (e as { pluginCode?: string }).pluginCode !== DOES_NOT_FIT) throw e;
      refused.push((e as Error).message.replace(/^\[plugin [^\]]*\] /, ''));
    }
  }
  if (refused.length)
    throw new Error(results.length + ' bundle(s) built; ' + refused.length + ' refused because they do not fit:\n  ' + refused.join('\n  '));
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
