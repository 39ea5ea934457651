/**
 * Moves every function's parameters into locals read from `arguments`.
 *
 * On Espruino a function object keeps one variable per declared parameter for
 * as long as it lives (about 0.92 each, measured on 2v29: 50 two-parameter
 * functions took 358 variables, the same functions reading `arguments` 258:
 * test/device-params).
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
import { ancestor } from 'acorn-walk';
import { applyEdits } from './edits.js';
import type { Edit } from './edits.js';

type AnyNode = any; // acorn's ESTree nodes, read by field

const isFunction = (node: AnyNode): boolean => /Function/.test(node.type);

/** A name that occurs nowhere in `code`, for the array of arguments. */
function freeName(code: string): string {
  for (let n = 0; ; n++) {
    const name = '$' + (n ? n.toString(36) : '');
    if (code.indexOf(name) < 0) return name;
  }
}

export function paramsFromArguments(code: string): { code: string; functions: number; params: number } {
  const ast = parse(code, { ecmaVersion: 5 }) as AnyNode;
  // One walk marks what rules a function out: a function inside it, or `arguments` read by it (the innermost
  // function around the name) or by a function around it.
  ancestor(ast, {
    Function(fn: AnyNode, _state: unknown, ancestors: AnyNode[]) {
      const parent = ancestors[ancestors.length - 2];
      if (parent && parent.type === 'Property' && parent.kind === 'set') fn.keepParams = true; // the syntax needs its one parameter
      for (let i = 0; i < ancestors.length - 1; i++) if (isFunction(ancestors[i])) ancestors[i].hasInner = true;
    },
    Identifier(id: AnyNode, _state: unknown, ancestors: AnyNode[]) {
      if (id.name !== 'arguments') return;
      for (let i = ancestors.length - 2; i >= 0; i--) {
        if (isFunction(ancestors[i])) {
          ancestors[i].readsArguments = true;
          break;
        }
      }
    },
  });
  const holder = freeName(code);
  const edits: Edit[] = [];
  let rewritten = 0;
  let params = 0;
  ancestor(ast, {
    Function(fn: AnyNode, _state: unknown, ancestors: AnyNode[]) {
      if (fn.params.length === 0 || fn.keepParams || fn.hasInner || fn.readsArguments) return;
      for (let i = 0; i < ancestors.length - 1; i++) if (ancestors[i].readsArguments) return;
      const list: string[] = fn.params.map((p: AnyNode) => p.name);
      edits.push({ start: fn.params[0].start, end: fn.params[list.length - 1].end, text: '' });
      const reads = list.length === 1 ? list[0] + '=arguments[0]' : holder + '=arguments,' + list.map((name, i) => name + '=' + holder + '[' + i + ']').join(',');
      edits.push({ start: fn.body.start + 1, end: fn.body.start + 1, text: 'var ' + reads + ';' });
      rewritten++;
      params += list.length;
    },
  });
  return { code: applyEdits(code, edits), functions: rewritten, params };
}
