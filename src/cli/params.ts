/**
 * Moves every function's parameters into locals read from `arguments`.
 *
 * On Espruino a function object keeps one variable per declared parameter for
 * as long as it lives (about 0.92 each, measured on 2v29: 50 two-parameter
 * functions took 291 variables, the same functions reading `arguments` 199).
 * Locals exist only while a call runs, so a bundle of a hundred functions
 * keeps a hundred and more variables fewer, at the price of one short-lived
 * array per call. The rewrite:
 *
 *     function f(t,i){…}  →  function f(){var $=arguments,t=$[0],i=$[1];…}
 *
 * Only functions with no function inside them are rewritten, and none inside
 * a function that reads `arguments`. Espruino (2v29) looks `arguments` up
 * through the scope chain and keeps it in the scope of the function that read
 * it, so a function made inside one that read it gets the outer function's
 * arguments; and a closure would keep the array alive with its scope. Also left
 * as they are: setters (the syntax needs their one parameter).
 */
import { parse } from 'acorn';
import { ancestor, full, simple } from 'acorn-walk';

type AnyNode = any; // acorn's ESTree nodes, read by field

interface Edit {
  from: number;
  to: number;
  text: string;
}

/** A name no identifier of `code` uses, for the array of arguments. */
function freeName(code: string, names: { [name: string]: boolean }): string {
  for (let n = 0; ; n++) {
    const name = '$' + (n ? n.toString(36) : '');
    if (!names[name] && code.indexOf(name) < 0) return name;
  }
}

/** Whether a function is declared or made anywhere inside `fn`. */
function hasInnerFunction(fn: AnyNode): boolean {
  let found = false;
  full(fn.body, (node: AnyNode) => {
    if (/Function/.test(node.type)) found = true;
  });
  return found;
}

/** Whether `fn` reads its own `arguments` (not a nested function's). */
function readsArguments(fn: AnyNode): boolean {
  let found = false;
  const visit = (node: AnyNode, top: boolean): void => {
    if (found || !node || typeof node.type !== 'string') return;
    if (!top && /Function/.test(node.type)) return;
    if (node.type === 'Identifier' && node.name === 'arguments') found = true;
    for (const key of Object.keys(node)) {
      const v = node[key];
      if (Array.isArray(v)) for (const c of v) visit(c, false);
      else if (v && typeof v.type === 'string' && key !== 'type') visit(v, false);
    }
  };
  visit(fn.body, true);
  return found;
}

export function paramsFromArguments(code: string): { code: string; functions: number; params: number } {
  const ast = parse(code, { ecmaVersion: 5 }) as AnyNode;
  const names: { [name: string]: boolean } = {};
  full(ast, (node: AnyNode) => {
    if (node.type === 'Identifier') names[node.name] = true;
  });
  const holder = freeName(code, names);
  const setters: AnyNode[] = [];
  simple(ast, {
    Property(node: AnyNode) {
      if (node.kind === 'set') setters.push(node.value);
    },
  });
  const edits: Edit[] = [];
  let functions = 0;
  let params = 0;
  const candidates: AnyNode[] = [];
  ancestor(ast, {
    Function(fn: AnyNode, _state: unknown, ancestors: AnyNode[]) {
      if (fn.params.length === 0 || setters.indexOf(fn) >= 0 || readsArguments(fn) || hasInnerFunction(fn)) return;
      for (let i = 0; i < ancestors.length - 1; i++) if (/Function/.test(ancestors[i].type) && readsArguments(ancestors[i])) return;
      candidates.push(fn);
    },
  });
  for (const fn of candidates) {
    const list: string[] = fn.params.map((p: AnyNode) => p.name);
    edits.push({ from: fn.params[0].start, to: fn.params[list.length - 1].end, text: '' });
    const reads = list.length === 1 ? list[0] + '=arguments[0]' : holder + '=arguments,' + list.map((name, i) => name + '=' + holder + '[' + i + ']').join(',');
    edits.push({ from: fn.body.start + 1, to: fn.body.start + 1, text: 'var ' + reads + ';' });
    functions++;
    params += list.length;
  }
  edits.sort((a, b) => a.from - b.from);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += code.slice(at, e.from) + e.text;
    at = e.to;
  }
  return { code: out + code.slice(at), functions, params };
}
