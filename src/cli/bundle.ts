/**
 * The device build: one rollup configuration per board × app entry, shared by
 * rollup.config.mjs (`npm run build`), `ringnet build` and the tests.
 *
 * TypeScript at ES5 (the project's own helpers from src/device/tslib.ts, never
 * inline ones) → rollup (the board profile injected as `ringnet:board`, build
 * settings as `ringnet:settings`) → terser with function hoisting (Espruino
 * hoists neither functions nor vars) → parameters read from `arguments`, and
 * a declaration at the top for each var that needs one (late-vars.ts) → the
 * compatibility gate on the final text. An
 * app is every `examples/<app>/device.ts`; a new app only adds that file.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import terserImport from '@rollup/plugin-terser';
import ts from 'typescript';
import type { OutputOptions, Plugin, RollupOptions } from 'rollup';
import { rollup } from 'rollup';
import type { BoardProfile } from '../../boards/profile.js';
import { boards } from '../../boards/index.js';
import { ramEstimate, staticBudget, VARS_PER_FUNCTION } from './budget.js';
import type { Budget, RamEstimate } from './budget.js';
export type { Budget, RamEstimate } from './budget.js';
import { checkBundle, formatViolations, functionShape, LINE_TARGET } from './gate.js';
import { paramsFromArguments } from './params.js';
import { inlineConstants } from './inline-constants.js';
import { breakLongLines } from './break-lines.js';
import { flattenClasses } from './flatten.js';
import { declareLateVars } from './late-vars.js';
import { espruinoGlobals, internalNames, ownedNames, tsFiles } from './mangle.js';
import { pruneUnusedMethods } from './prune.js';
import { boardSandboxOptions, EspruinoSandbox } from './sandbox.js';

// The plugin ships CommonJS-style types for an ES module: the default import is the plugin at run time.
const terser = ((terserImport as any).default || terserImport) as typeof terserImport.default;

/** The project root (this file is build/src/cli/bundle.js once compiled). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type Settings = { [key: string]: string | number };

export interface BundleTarget {
  board: BoardProfile;
  /** The app's name: dist/<board>/<app>.js. */
  app: string;
  /** Absolute path of the device entry (.ts). */
  entry: string;
  /** Absolute output file; omit to build in memory only. */
  file?: string;
  settings?: Settings;
  /**
   * For entries that must stay importable without side effects (test
   * fixtures under test/, which Node's test runner loads): the name of an
   * exported `(board, settings) => void` the bundle calls.
   */
  mainExport?: string;
  /** Method names kept even when nothing in the bundle names them (see pruneUnusedMethods). */
  keepMethods?: string[];
}

export interface BundleResult {
  board: string;
  app: string;
  file: string | undefined;
  code: string;
  bytes: number;
  budget: Budget;
  /** RAM on the device, estimated from the function objects and the budget. */
  ram: RamEstimate;
  /** Source modules in the bundle, relative to the project root. */
  modules: string[];
  /** Class methods the pruner left in the bundle, by their source names. */
  keptMethods: string[];
  /** Whether the bundle made a TCP server when it started (so accepts peers): the worst case it must fit differs. */
  accepts: boolean;
}

/** Apps with a device entry: every examples/<app>/device.ts, sorted. */
export function deviceApps(root: string = ROOT): string[] {
  const dir = join(root, 'examples');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'device.ts')))
    .map((d) => d.name)
    .sort();
}

/**
 * Board × app targets; `boards`/`apps` narrow the lists (undefined: all of
 * them). `entries` are device entries of the user's own (any path): each
 * builds as <out>/<board>/<name>.js, its name the file's without `.ts`.
 * Output goes under `outDir`, by default dist/ in the current directory.
 */
export function deviceTargets(options: { boards?: string[]; apps?: string[]; entries?: string[]; outDir?: string; settings?: Settings }): BundleTarget[] {
  const boardNames = options.boards && options.boards.length ? options.boards : Object.keys(boards);
  const entries = options.entries || [];
  const apps = options.apps && options.apps.length ? options.apps : entries.length ? [] : deviceApps();
  const outDir = options.outDir || resolve('dist');
  const named: { app: string; entry: string }[] = [];
  for (const app of apps) {
    const entry = join(ROOT, 'examples', app, 'device.ts');
    if (!existsSync(entry)) throw new Error('app "' + app + '" has no device entry (examples/' + app + '/device.ts)');
    named.push({ app: app, entry: entry });
  }
  for (const e of entries) {
    const entry = resolve(e);
    if (!existsSync(entry)) throw new Error('no device entry ' + e);
    named.push({ app: basename(entry, extname(entry)), entry: entry });
  }
  const targets: BundleTarget[] = [];
  for (const b of boardNames) {
    const board = boards[b];
    if (!board) throw new Error('unknown board "' + b + '" (known: ' + Object.keys(boards).join(', ') + ')');
    for (const n of named) targets.push({ board: board, app: n.app, entry: n.entry, file: join(outDir, b, n.app + '.js'), settings: options.settings });
  }
  return targets;
}

const BOARD_MODULE = 'ringnet:board';
const SETTINGS_MODULE = 'ringnet:settings';
const MAIN_MODULE = 'ringnet:main';

/** `ringnet:board` and `ringnet:settings` for one target. */
function injectPlugin(target: BundleTarget): Plugin {
  const boardFile = join(ROOT, 'boards', target.board.name + '.ts');
  return {
    name: 'ringnet-inject',
    resolveId(id) {
      if (id === BOARD_MODULE || id === SETTINGS_MODULE || id === MAIN_MODULE) return '\0' + id;
      return null;
    },
    load(id) {
      if (id === '\0' + BOARD_MODULE) return 'export { default } from ' + JSON.stringify(boardFile) + ';';
      if (id === '\0' + SETTINGS_MODULE) return 'export default ' + JSON.stringify(target.settings || {}) + ';';
      if (id === '\0' + MAIN_MODULE)
        return (
          'import board from ' + JSON.stringify(BOARD_MODULE) + ';\nimport settings from ' + JSON.stringify(SETTINGS_MODULE) + ';\n' +
          'import { ' + target.mainExport + ' as main } from ' + JSON.stringify(resolve(target.entry)) + ';\nmain(board, settings);\n'
        );
      return null;
    },
    transform(code) {
      return inlineConstants(inlineConstants(code, BOARD_MODULE, target.board), SETTINGS_MODULE, target.settings || {});
    },
  };
}

/** Where device code lives; the TypeScript program starts from the entries and the boards. */
const ENTRY_DIRS = ['examples', join('test', 'support', 'device')];
const TSLIB = join(ROOT, 'src', 'device', 'tslib.ts');
let compiled: Map<string, string> | null = null;

/**
 * The device program's options. `ringnet-device` is the package's export
 * condition naming each module's TypeScript source, so a user's entry that
 * imports 'ringnet' or 'ringnet/drivers/espruino' compiles the sources (and
 * inlines their enums) instead of resolving to the Node build's .d.ts.
 */
const DEVICE_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES5,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  customConditions: ['ringnet-device'],
  lib: ['lib.es5.d.ts'],
  types: [],
  importHelpers: true,
  noEmitHelpers: true,
  noCheck: true,
  skipLibCheck: true,
  sourceMap: false,
  declaration: false,
  noEmitOnError: false,
};

/**
 * Compiles every device entry (and what it imports) to ES5 once per process:
 * one TypeScript program serves every board × app, so building all bundles
 * costs one compile. Type errors are `tsc -p tsconfig.device.json`'s job.
 */
function compileDeviceSources(extraEntries: string[]): Map<string, string> {
  const roots: string[] = [TSLIB];
  for (const b of Object.keys(boards)) roots.push(join(ROOT, 'boards', b + '.ts'));
  for (const dir of ENTRY_DIRS) {
    const abs = join(ROOT, dir);
    if (!existsSync(abs)) continue;
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      if (d.isDirectory() && existsSync(join(abs, d.name, 'device.ts'))) roots.push(join(abs, d.name, 'device.ts'));
      else if (d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') && dir !== 'examples') roots.push(join(abs, d.name));
    }
  }
  // The library's sources are roots too: an installed ringnet lives under node_modules, and
  // TypeScript emits nothing for a .ts file it reached only through a package import.
  const cli = join(ROOT, 'src', 'cli') + sep; // Node only
  for (const f of tsFiles(join(ROOT, 'src'), [])) if (f.indexOf(cli) !== 0 && roots.indexOf(f) < 0) roots.push(f);
  for (const e of extraEntries) if (roots.indexOf(e) < 0) roots.push(e);
  roots.push(join(ROOT, 'src', 'device', 'virtual.d.ts'));
  const program = ts.createProgram(roots, DEVICE_OPTIONS, deviceCompilerHost(DEVICE_OPTIONS));
  const out = new Map<string, string>();
  program.emit(undefined, (fileName, text, _bom, _onError, sources) => {
    if (sources && sources.length === 1 && fileName.endsWith('.js')) out.set(resolve(sources[0].fileName), text);
  });
  return out;
}

/**
 * Exported enums are regular enums so that Node code gets real objects
 * (`import { Ev } from 'ringnet'`); on the device they cost an object and its
 * reverse map each. This host makes them `const enum`s in the project's own
 * sources as they are read, so the device program inlines their members as
 * literals and the bundles stay as small as before.
 */
export function deviceCompilerHost(options: ts.CompilerOptions, root: string = ROOT): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile;
  const inside = resolve(root) + sep;
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const abs = resolve(fileName);
    if (!abs.startsWith(inside) || abs.endsWith('.d.ts') || abs.indexOf(sep + 'node_modules' + sep, inside.length - 1) >= 0) {
      return read.call(host, fileName, languageVersion, onError, shouldCreate);
    }
    const text = host.readFile(fileName);
    if (text === undefined) return read.call(host, fileName, languageVersion, onError, shouldCreate);
    return ts.createSourceFile(fileName, constEnums(text), languageVersion, false);
  };
  return host;
}

/** `export enum` → `export const enum` where a line starts with it, as every exported enum of the project is declared. */
export function constEnums(text: string): string {
  return text.replace(/^export enum /gm, 'export const enum ');
}

/** Serves the ES5 output of compileDeviceSources to rollup; `tslib` is the project's own helpers. */
function typescriptPlugin(target: BundleTarget): Plugin {
  return {
    name: 'ringnet-typescript',
    buildStart() {
      if (!compiled || !compiled.has(resolve(target.entry))) compiled = compileDeviceSources([resolve(target.entry)]);
    },
    resolveId(source, importer) {
      if (source === 'tslib') return TSLIB;
      if (!importer || source.charAt(0) === '\0') return null;
      const base = source.charAt(0) === '.' ? resolve(dirname(importer), source) : source.charAt(0) === '/' ? source : null;
      if (!base) {
        // A package import ('ringnet', 'ringnet/protocols/mqtt'): where the device program found it.
        const found = ts.resolveModuleName(source, importer, DEVICE_OPTIONS, ts.sys).resolvedModule;
        const file = found && resolve(found.resolvedFileName);
        return file && compiled && compiled.has(file) ? file : null;
      }
      const asTs = base.endsWith('.js') ? base.slice(0, -3) + '.ts' : base;
      return compiled && compiled.has(asTs) ? asTs : null;
    },
    load(id) {
      return compiled ? compiled.get(id) || null : null;
    },
  };
}

/** Fails the build on anything Espruino cannot run, and prints the bundle's budget table. */
function gatePlugin(target: BundleTarget, results: BundleResult[] | null, quiet: boolean, pruned: { kept: string[] }): Plugin {
  return {
    name: 'ringnet-gate',
    generateBundle(_options, bundle) {
      for (const name of Object.keys(bundle)) {
        const chunk = bundle[name];
        if (chunk.type !== 'chunk') continue;
        const label = target.board.name + '/' + target.app + '.js';
        const violations = checkBundle(chunk.code, label);
        if (violations.length) this.error('Espruino compatibility gate failed:\n' + formatViolations(violations));
        const smoke = smokeRun(chunk.code, target.board, label);
        if (smoke.errors.length) this.error('Espruino compatibility gate failed: ' + label + ' in the Espruino sandbox:\n  ' + smoke.errors.join('\n  '));
        // Modules that left code in the bundle: one whose code was all shaken out allocates nothing.
        const modules = chunk.moduleIds.filter((id) => id.charAt(0) !== '\0' && chunk.modules[id].renderedLength > 0).map((id) => relative(ROOT, id));
        const budget = staticBudget(target.board, modules, smoke.allocatedBytes);
        const result: BundleResult = {
          board: target.board.name,
          app: target.app,
          file: target.file,
          code: chunk.code,
          bytes: Buffer.byteLength(chunk.code),
          budget: budget,
          ram: ramEstimate(target.board, budget, functionShape(chunk.code), Number((target.settings || {}).variables) || undefined, smoke.accepts),
          modules: modules,
          keptMethods: pruned.kept,
          accepts: smoke.accepts,
        };
        if (!quiet || !result.ram.fits) console.log(formatBudget(result));
        if (!result.ram.fits) this.error({ message: doesNotFit(result), code: DOES_NOT_FIT });
        if (results) results.push(result);
      }
    },
  };
}

/** The `pluginCode` of the build error for a bundle that does not fit its board (`ringnet build` goes on past it). */
export const DOES_NOT_FIT = 'RINGNET_DOES_NOT_FIT';

/** Why a bundle is refused: what it needs, what the target has, and how to name a larger target. */
export function doesNotFit(r: BundleResult): string {
  return (
    r.board + '/' + r.app + '.js does not fit its board: it needs about ' + num(r.ram.idle) + ' variables idle and ' + num(r.ram.peer) +
    ' more at its worst (' + (r.accepts ? 'one more peer' : 'what one connection may hold') + '), and the target has ' + num(r.ram.board || 0) + ' (' + r.ram.functions + ' function objects at about ' + VARS_PER_FUNCTION + ' each, ' +
    num(r.budget.total) + ' B of rings and buffers). Build a smaller app (e.g. --set http=0), or name a larger target with --set variables=N ' +
    '(an ESP32 with PSRAM has tens of thousands).'
  );
}

/**
 * Starts a bundle in the Espruino-shaped sandbox and lets it run two virtual
 * seconds: it must load and keep running without an error the interpreter
 * would print (`errors`), `allocatedBytes` is what its typed arrays took, and
 * `accepts` whether it made a TCP server. (App behaviour is for the tests, e.g. the echo test.)
 */
export function smokeRun(code: string, board: BoardProfile, label: string): { errors: string[]; allocatedBytes: number; accepts: boolean } {
  const sb = new EspruinoSandbox(boardSandboxOptions(board));
  sb.load(code, label);
  sb.runFor(2000);
  return { errors: sb.errors, allocatedBytes: sb.allocatedBytes, accepts: sb.serversMade > 0 };
}

const shortenable: { [appDir: string]: RegExp } = {};

/**
 * What a bundle is made of besides its app: where mangle.ts looks for names. Every Espruino driver module
 * (src/drivers/espruino*.ts), found, not listed: a new one is covered without an edit here.
 */
function bundleSources(): string[] {
  const drivers = readdirSync(join(ROOT, 'src', 'drivers')).filter((f) => /^espruino.*\.ts$/.test(f) && !/\.d\.ts$/.test(f));
  return ['src/core', 'src/protocols', 'src/device', 'boards'].concat(drivers.sort().map((f) => 'src/drivers/' + f));
}

/**
 * Terser settings: ES5 output; Espruino hoists neither functions nor vars, so
 * terser hoists functions (vars: late-vars.ts declares at the top only those
 * that need it, so a running function holds only the locals it reached);
 * member names (see mangle.ts) are shortened across the whole bundle; short
 * lines, because an exception on Espruino copies its source line into RAM.
 * `appDir` is the app entry's folder.
 */
export function terserOptions(appDir: string) {
  let regex = shortenable[appDir];
  if (!regex) {
    const names = internalNames(ROOT, bundleSources().concat(relative(ROOT, appDir) || '.'));
    regex = shortenable[appDir] = names.length ? new RegExp('^(' + names.join('|') + ')$') : /^$/;
  }
  return {
    ecma: 5 as const,
    toplevel: true,
    compress: { hoist_funs: true, hoist_vars: false, passes: 2 },
    // `builtins`: terser would otherwise keep every name of its DOM list long (`opened`, `released`, `remote`,
    // `capacity` …: a variable more per object that has one). The regex names only what may be shortened, and no
    // short name may be one JavaScript or Espruino owns.
    mangle: { properties: { regex, builtins: true, reserved: ownedNames() }, reserved: espruinoGlobals() },
    format: { ascii_only: true, max_line_len: LINE_TARGET },
  };
}

/**
 * The first terser pass only drops what nothing uses (classes included) and keeps names and statements as
 * they are, so flatten.ts can read the class wrappers and the final pass shapes the code once.
 */
const SHAKE_OPTIONS = {
  ecma: 5 as const,
  toplevel: true,
  compress: { passes: 2, hoist_funs: false, conditionals: false, if_return: false, sequences: false, collapse_vars: false, join_vars: false, inline: false, reduce_funcs: false },
  mangle: false,
};

/** Lifts the class wrappers terser's first pass left to the top level (see flatten.ts). */
function flattenPlugin(): Plugin {
  return {
    name: 'ringnet-flatten-classes',
    renderChunk(code) {
      return { code: flattenClasses(code).code, map: null };
    },
  };
}

/** Parameters become locals read from `arguments`: a function object keeps none (see params.ts); then the vars Espruino needs declared first are (late-vars.ts). */
function paramsPlugin(): Plugin {
  return {
    name: 'ringnet-params',
    renderChunk(code) {
      return { code: declareLateVars(paramsFromArguments(code).code), map: null };
    },
  };
}

/** Breaks the few lines terser leaves over the gate's limit (see break-lines.ts). */
function lineBreakPlugin(): Plugin {
  return {
    name: 'ringnet-break-lines',
    renderChunk(code) {
      return { code: breakLongLines(code), map: null };
    },
  };
}

/**
 * Drops class methods nothing in the bundle names (see prune.ts), then marks
 * TypeScript's class wrappers pure so terser drops a class nothing uses any more.
 */
function prunePlugin(keep: string[] | undefined, pruned: { kept: string[] }): Plugin {
  return {
    name: 'ringnet-prune-methods',
    renderChunk(code) {
      const r = pruneUnusedMethods(code, keep);
      pruned.kept = r.kept;
      return { code: r.code.replace(/\/\*\* @class \*\/ \(function/g, '/*#__PURE__*/ (function'), map: null };
    },
  };
}

/** The rollup configuration of one bundle. */
export function rollupOptions(target: BundleTarget, results?: BundleResult[], quiet?: boolean): RollupOptions & { output: OutputOptions } {
  const pruned = { kept: [] as string[] }; // what the prune step left, for the result the gate step makes
  return {
    input: target.mainExport ? MAIN_MODULE : target.entry,
    // Runtime modules (net, Wifi, Storage …) are `require(...)` calls inside the driver, never imports:
    // an import rollup cannot resolve is an error, not an external.
    onwarn(warning, warn) {
      if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(warning.message);
      warn(warning);
    },
    plugins: [
      injectPlugin(target),
      typescriptPlugin(target),
    ],
    output: {
      file: target.file,
      // A script of top-level declarations: a function made inside another costs a variable more on Espruino.
      // Its top-level names are short and never one of Espruino's globals (terserOptions).
      format: 'es',
      // Pruned twice: again once terser has dropped the unused code whose member names kept a method alive.
      plugins: [prunePlugin(target.keepMethods, pruned), terser(SHAKE_OPTIONS), flattenPlugin(), prunePlugin(target.keepMethods, pruned), terser(terserOptions(dirname(target.entry))), paramsPlugin(), lineBreakPlugin(), gatePlugin(target, results || null, !!quiet, pruned)],
    },
  };
}

/** Builds one bundle (written to `target.file` when it has one) and returns its text, size and budget. */
export async function buildBundle(target: BundleTarget, quiet?: boolean): Promise<BundleResult> {
  const results: BundleResult[] = [];
  const options = rollupOptions(target, results, quiet === undefined ? true : quiet);
  const build = await rollup(options);
  try {
    if (target.file) await build.write(options.output);
    else await build.generate(options.output);
  } finally {
    await build.close();
  }
  return results[0];
}

function pad(s: string, n: number, right?: boolean): string {
  while (s.length < n) s = right ? ' ' + s : s + ' ';
  return s;
}

function num(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The table printed per bundle: minified size, then the board's static memory budget. */
export function formatBudget(r: BundleResult): string {
  const lines: string[] = [];
  const row = (label: string, value: number, unit?: string) => lines.push('  ' + pad(label, 40) + pad(num(value), 9, true) + ' ' + (unit || 'B'));
  lines.push((r.file ? relative(process.cwd(), r.file) : r.board + '/' + r.app + '.js') + '  (board ' + r.board + ')');
  row('code, minified', r.bytes);
  for (const p of r.budget.pools) {
    row('rings ' + pad(p.name, 8) + p.conns + ' × ' + (p.perSlot === undefined ? '(' + p.recvBytes + ' + ' + p.sendBytes + ')' : p.perSlot + ' (the app\'s sizes)'), p.bytes);
  }
  if (r.budget.protocols.length === 0) row('protocol state (none)', 0);
  for (const p of r.budget.protocols) row('protocol state ' + p.name + ' (' + p.what + ')', p.bytes);
  row('static memory budget', r.budget.total);
  row('per peer at most (interpreter memory)', r.budget.perPeer);
  lines.push('  RAM, estimated in ' + r.ram.variableBytes + '-byte variables:');
  row('idle (' + r.ram.functions + ' functions, ' + r.ram.connections + ' slots)', r.ram.idle, 'vars');
  row(r.accepts ? 'one more peer at most, socket included' : 'what one connection may hold', r.ram.peer, 'vars');
  if (r.ram.board !== undefined) row(r.ram.fits ? 'the board has' : 'the board has (DOES NOT FIT)', r.ram.board, 'vars');
  return lines.join('\n');
}
