/**
 * Writes the board profile's and the build settings' values into the code
 * that reads them.
 *
 * `board.pools.mqtt` in a device entry becomes `{"conns":1,…}`, and
 * `settings.http === undefined` becomes `void 0 === undefined`, which terser
 * then folds. Kept as modules, the profile and the settings would each be an
 * object held for the device's whole life (the esp8266 profile is 44
 * variables) although the app reads most fields once, at start; and a
 * number a module reads at start could not be folded into the code.
 *
 * Only reads are rewritten: a member chain rooted at the import's local name,
 * as long as the chain's value exists (the longest such chain is taken). A
 * use of the whole object (`f(board)`) or a write stays as it is, and then the
 * module stays in the bundle too.
 */
import { parse } from 'acorn';
import { ancestor } from 'acorn-walk';
import { applyEdits } from './edits.js';
import type { Edit } from './edits.js';

type AnyNode = any; // acorn's ESTree nodes, read by field

/** JavaScript for a JSON-like value (undefined as `void 0`). */
function literal(value: unknown): string {
  return value === undefined ? 'void 0' : JSON.stringify(value);
}

/**
 * `code` (an ES module) with every read of `value` through the default import
 * of `moduleId` replaced by the value it reads; `code` itself when it does not
 * import `moduleId`.
 */
export function inlineConstants(code: string, moduleId: string, value: unknown): string {
  if (code.indexOf(moduleId) < 0) return code;
  const ast = parse(code, { ecmaVersion: 2020, sourceType: 'module' }) as AnyNode;
  let local: string | null = null;
  for (const node of ast.body) {
    if (node.type !== 'ImportDeclaration' || node.source.value !== moduleId) continue;
    for (const s of node.specifiers) if (s.type === 'ImportDefaultSpecifier') local = s.local.name;
  }
  if (!local) return code;
  const edits: Edit[] = [];
  ancestor(ast, {
    Identifier(node: AnyNode, _state: unknown, ancestors: AnyNode[]) {
      if (node.name !== local) return;
      const up = ancestors[ancestors.length - 2];
      if (up && ((up.type === 'MemberExpression' && up.property === node && !up.computed) || (up.type === 'Property' && up.key === node))) return;
      // Walk up the member chain while the value it reads exists.
      let at = value as any;
      let top: AnyNode = node;
      let i = ancestors.length - 2;
      for (; i >= 0; i--) {
        const m = ancestors[i];
        if (m.type !== 'MemberExpression' || m.object !== top || at === null || typeof at !== 'object') break;
        const key = m.computed ? (m.property.type === 'Literal' ? m.property.value : undefined) : m.property.name;
        if (key === undefined) break;
        at = Object.prototype.hasOwnProperty.call(at, key) ? at[key] : undefined; // a field the object lacks reads as undefined
        top = m;
      }
      if (top === node) return; // the whole object is used
      if (i >= 0 && isWriteOrCall(ancestors[i], top)) return;
      edits.push({ start: top.start, end: top.end, text: '(' + literal(at) + ')' });
    },
  });
  return edits.length ? applyEdits(code, edits) : code;
}

/** A chain that is assigned to, updated, deleted or called must keep its object. */
function isWriteOrCall(parent: AnyNode, node: AnyNode): boolean {
  if (parent.type === 'AssignmentExpression' && parent.left === node) return true;
  if (parent.type === 'UpdateExpression') return true;
  if (parent.type === 'UnaryExpression' && parent.operator === 'delete') return true;
  if (parent.type === 'CallExpression' && parent.callee === node) return true;
  return false;
}
