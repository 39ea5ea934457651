/**
 * The `ringnet` command: `ringnet <verb> [options]`.
 *
 * Each verb is a module in this directory exporting `run(args)`; adding a verb
 * is one line in VERBS. Verbs are loaded only when called, so a verb's
 * dependencies never slow the others down (nor `--version`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Verb {
  run(args: string[]): Promise<number>;
}

const VERBS: { [name: string]: { about: string; load: () => Promise<Verb> } } = {
  init: { about: 'write a starter app (device and host entries, tsconfig, npm scripts) into a project', load: () => import('./init.js') },
  build: { about: 'bundle device entries for boards: dist/<board>/<name>.js, with the budget table', load: () => import('./build.js') },
  flash: { about: 'build, then upload a bundle to a board (serial port, or --host over telnet) and save it to flash', load: () => import('./flash.js') },
  sim: { about: 'a fleet of simulated devices running an app against an MQTT broker', load: () => import('./sim.js').then((m) => ({ run: m.sim })) },
};

/** This package's version, from its package.json (this file is build/src/cli/main.js once compiled). */
export function version(): string {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
}

function usage(): string {
  const lines = ['usage: ringnet <verb> [options]   (ringnet <verb> --help for its options; ringnet --version)', ''];
  for (const name of Object.keys(VERBS)) lines.push('  ' + (name + '          ').slice(0, 10) + VERBS[name].about);
  return lines.join('\n');
}

/** Runs one command line (without `node` and the script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let verb = argv[0];
  let rest = argv.slice(1);
  if (verb === '--version' || verb === '-v' || verb === 'version') {
    console.log(version());
    return 0;
  }
  if (verb === 'help' && rest.length) {
    verb = rest[0]; // `ringnet help build` is `ringnet build --help`
    rest = ['--help'];
  }
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(usage());
    return verb ? 0 : 1;
  }
  const entry = VERBS[verb];
  if (!entry) {
    console.error('ringnet: unknown verb "' + verb + '"\n' + usage());
    return 1;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (e) {
    console.error('ringnet ' + verb + ': ' + (e instanceof Error ? e.message : String(e)));
    return 1;
  }
}

// Run when executed (bin/ringnet.js imports this module), not when a test imports it.
if (process.argv[1] && /ringnet(\.js)?$|main\.js$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
