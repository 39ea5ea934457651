/** Command-line parsing shared by the verbs (node:util parseArgs plus `--set key=value`). */
import { parseArgs } from 'node:util';
import type { Settings } from './bundle.js';

export type OptionSpec = { [name: string]: { type: 'string' | 'boolean'; multiple?: boolean; short?: string } };

/** Parses `args`; unknown options and stray positionals throw with a message naming them. */
export function parseOptions(args: string[], spec: OptionSpec): { [name: string]: string | string[] | boolean | undefined } {
  return parseArgs({ args: args, options: spec, allowPositionals: false, strict: true }).values as {
    [name: string]: string | string[] | boolean | undefined;
  };
}

/** `a,b` and repeated options as one list. */
export function list(value: string | string[] | boolean | undefined): string[] | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const all = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const v of all) for (const part of v.split(',')) if (part.trim()) out.push(part.trim());
  return out;
}

/** `--set key=value` pairs; numeric values become numbers. */
export function settings(value: string | string[] | boolean | undefined): Settings {
  const out: Settings = {};
  for (const pair of list(value) || []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error('--set expects key=value, got "' + pair + '"');
    const v = pair.substring(eq + 1);
    out[pair.substring(0, eq)] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  return out;
}
