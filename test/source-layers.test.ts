/**
 * The layers of src/ as its imports show them (type-only imports too: a type
 * cycle is still two modules that cannot be read one without the other).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../src/cli/bundle.js';

const SRC = join(ROOT, 'src');

/** Every .ts file of src/, relative to src/, with the src/ files it imports. */
function importGraph(): { [file: string]: string[] } {
  const graph: { [file: string]: string[] } = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const targets: string[] = [];
        for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)) {
          let target = normalize(join(dirname(path), m[1].replace(/\.js$/, '.ts')));
          if (!existsSync(target)) target = join(target.replace(/\.ts$/, ''), 'index.ts');
          targets.push(relative(SRC, target));
        }
        graph[relative(SRC, path)] = targets;
      }
    }
  };
  walk(SRC);
  return graph;
}

/** The import cycles of `graph`, each as the chain of files that closes it. */
function cycles(graph: { [file: string]: string[] }): string[][] {
  const found: string[][] = [];
  const state: { [file: string]: 'open' | 'done' } = {};
  const stack: string[] = [];
  const visit = (file: string): void => {
    state[file] = 'open';
    stack.push(file);
    for (const next of graph[file] || []) {
      if (state[next] === 'open') found.push(stack.slice(stack.indexOf(next)).concat(next));
      else if (!state[next]) visit(next);
    }
    stack.pop();
    state[file] = 'done';
  };
  for (const file of Object.keys(graph).sort()) if (!state[file]) visit(file);
  return found;
}

test('src: no import cycles, type-only imports included', () => {
  const graph = importGraph();
  assert.ok(Object.keys(graph).length > 50, 'the walk found the source');
  assert.ok(graph['cli/sandbox/timers.ts'].indexOf('cli/sandbox/network.ts') >= 0, 'a type-only import is an edge');
  assert.deepEqual(cycles(graph).map((c) => c.join(' -> ')), []);
});

test('src: the core imports only the core; protocols only the core and protocols; drivers only the core and drivers', () => {
  const allowed: { [layer: string]: string[] } = { core: ['core'], protocols: ['core', 'protocols'], drivers: ['core', 'drivers'] };
  const wrong: string[] = [];
  const graph = importGraph();
  for (const file of Object.keys(graph)) {
    const layer = file.split('/')[0];
    if (!allowed[layer]) continue;
    for (const target of graph[file]) if (allowed[layer].indexOf(target.split('/')[0]) < 0) wrong.push(file + ' imports ' + target);
  }
  assert.deepEqual(wrong, []);
});

test('src: the cycle check finds a cycle through a type-only import', () => {
  const graph = { 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'], 'd.ts': ['a.ts'] };
  assert.deepEqual(cycles(graph), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});
