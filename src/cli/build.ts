/**
 * `ringnet build [entry.ts …] [--board b] [--app a] [--out dir] [--set key=value] [--quiet]`:
 * bundles device entries for every board (or those named) into
 * <out>/<board>/<name>.js (dist/ in the current directory by default): the
 * entries named, or else every examples/<app>/device.ts of this package (or
 * those `--app` names). Prints each bundle's budget table, and fails on the
 * first bundle the compatibility gate rejects. A bundle that does not fit
 * its board's memory is refused without stopping the others: every target
 * that fits is written, and then the build fails naming each refusal.
 */
import { relative, resolve } from 'node:path';
import { buildBundle, deviceTargets, DOES_NOT_FIT } from './bundle.js';
import type { BundleResult, Settings } from './bundle.js';
import { list, parseWithPositionals, settings, settingsHelp } from './options.js';
import { boards } from '../../boards/index.js';

export interface BuildOptions {
  boards?: string[];
  apps?: string[];
  /** Device entries of the user's own (paths). */
  entries?: string[];
  outDir?: string;
  settings?: Settings;
  quiet?: boolean;
}

/** Thousands with commas, as the progress lines and budget tables print sizes. */
export function num(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Builds the bundles one after another (rollup and terser are CPU-bound; parallel builds gain nothing on 2 cores). */
export async function buildAll(options: BuildOptions): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  const refused: string[] = [];
  for (const target of deviceTargets(options)) {
    console.log('building ' + target.board.name + '/' + target.app + '.js …');
    try {
      const r = await buildBundle(target, !!options.quiet);
      results.push(r);
      if (r.file) console.log('wrote ' + relative(process.cwd(), r.file) + ' (' + num(r.bytes) + ' B)');
    } catch (e) {
      if (!e || (e as { pluginCode?: string }).pluginCode !== DOES_NOT_FIT) throw e;
      refused.push((e as Error).message.replace(/^\[plugin [^\]]*\] /, ''));
    }
  }
  if (refused.length)
    throw new Error(results.length + ' bundle(s) built; ' + refused.length + ' refused because they do not fit:\n  ' + refused.join('\n  '));
  return results;
}

export const HELP = `usage: ringnet build [entry.ts …] [options]
  entry.ts                a device entry of your own (imports 'ringnet', 'ringnet:board', 'ringnet:settings'):
                          builds dist/<board>/<entry name>.js in the current directory
  --board B[,B]           ${Object.keys(boards).join(', ')} (default: all)
  --app A[,A]             instead of entries: examples/<app>/device.ts of this package (default: all of them)
  --out DIR               output folder (default: dist)
  --set key=value         a build setting the entry reads from 'ringnet:settings'; repeatable. Known:
${settingsHelp()}
  --quiet                 no budget tables (only for bundles that do not fit)`;

export async function run(args: string[]): Promise<number> {
  const { values: o, positionals } = parseWithPositionals(args, {
    board: { type: 'string', multiple: true },
    app: { type: 'string', multiple: true },
    out: { type: 'string' },
    set: { type: 'string', multiple: true },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length && o.app) throw new Error('name device entries or --app, not both');
  const results = await buildAll({
    boards: list(o.board),
    apps: list(o.app),
    entries: positionals,
    outDir: typeof o.out === 'string' ? resolve(o.out) : undefined,
    settings: settings(o.set),
    quiet: !!o.quiet,
  });
  console.log('\n' + results.length + ' bundle(s) passed the Espruino gate.');
  return 0;
}
