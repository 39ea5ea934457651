/**
 * Method tree-shaking for device bundles.
 *
 * Rollup drops unused functions and classes, but never a method of a class it
 * keeps, and on Espruino every method costs flash and a function object in
 * RAM. A method (`X.prototype.m = function …`, or an accessor defined with
 * `Object.defineProperty(X.prototype, "m", …)`) is removed when the name `m`
 * appears nowhere else in the bundle as a member (`x.m`) or a string. A
 * variable of that name, an object literal's key and a member of a runtime
 * module (`require("Wifi").connect`) do not count. Code that calls methods by names computed at run time
 * would defeat this; ringnet's code never does.
 */
import { parse } from 'acorn';
import type { Node } from 'acorn';

type AnyNode = Node & { [key: string]: any };

function isNode(x: unknown): x is AnyNode {
  return !!x && typeof (x as AnyNode).type === 'string';
}

interface Definition {
  name: string;
  start: number;
  end: number;
  /** The node that names the method in the definition (not counted as a use). */
  nameNode: AnyNode;
}

function isRequireCall(node: AnyNode): boolean {
  return node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length === 1;
}

function prototypeMember(node: AnyNode): AnyNode | null {
  // X.prototype.m
  if (node.type !== 'MemberExpression' || node.computed) return null;
  const obj = node.object as AnyNode;
  if (obj.type === 'MemberExpression' && !obj.computed && obj.property.name === 'prototype') return node.property as AnyNode;
  return null;
}

/** Whether the member `m` (`x.m`, under `grand`) is a field's: written, or read through to a member that is not call/apply/bind. */
function fieldUse(m: AnyNode, grand: AnyNode | null): boolean {
  if (!grand) return false;
  if (grand.type === 'AssignmentExpression' && grand.left === m) return true;
  if (grand.type === 'UpdateExpression') return true;
  if (grand.type === 'MemberExpression' && grand.object === m) {
    if (grand.computed) return true;
    const next = (grand.property as AnyNode).name;
    return next !== 'call' && next !== 'apply' && next !== 'bind';
  }
  return false;
}

function definitionOf(stmt: AnyNode): Definition | null {
  if (stmt.type !== 'ExpressionStatement') return null;
  const e = stmt.expression as AnyNode;
  if (e.type === 'AssignmentExpression' && e.operator === '=' && e.right.type === 'FunctionExpression') {
    const prop = prototypeMember(e.left);
    if (prop) return { name: prop.name, start: stmt.start, end: stmt.end, nameNode: prop };
  }
  // Object.defineProperty(X.prototype, "m", { get: …, set: … })
  if (
    e.type === 'CallExpression' &&
    e.callee.type === 'MemberExpression' &&
    e.callee.object.type === 'Identifier' &&
    e.callee.object.name === 'Object' &&
    e.callee.property.name === 'defineProperty' &&
    e.arguments.length === 3 &&
    e.arguments[0].type === 'MemberExpression' &&
    !e.arguments[0].computed &&
    e.arguments[0].property.name === 'prototype' &&
    e.arguments[1].type === 'Literal' &&
    typeof e.arguments[1].value === 'string'
  ) {
    return { name: e.arguments[1].value, start: stmt.start, end: stmt.end, nameNode: e.arguments[1] };
  }
  return null;
}

/**
 * One pass: returns the code without the methods whose names are used nowhere
 * else, and which went. A name inside a method of the same name (recursion, or
 * a wrapper calling the runtime's method of that name) and an object literal's
 * key (data, or a method only ever called through a member that is counted
 * where it is called) are not uses. Nor is a field of that name: one written
 * (`x.m = v`, `x.m += v`, `x.m++`) or read through (`x.m.y`, but not
 * `x.m.call`, `.apply` or `.bind`): the manager's `stats` object kept the MQTT
 * client's `stats()` in every bundle.
 */
function pruneOnce(code: string, keep: string[]): { code: string; removed: string[]; kept: string[] } {
  const ast = parse(code, { ecmaVersion: 2020, sourceType: 'module' }) as AnyNode;
  const defs: Definition[] = [];
  const uses: { [name: string]: number[] } = Object.create(null);
  const skip = new Set<AnyNode>();
  const count = (name: string, at: number) => {
    (uses[name] || (uses[name] = [])).push(at);
  };
  const visit = (node: AnyNode, parent: AnyNode | null, grand: AnyNode | null) => {
    if (parent && (parent.type === 'BlockStatement' || parent.type === 'Program')) {
      const d = definitionOf(node);
      if (d) {
        defs.push(d);
        skip.add(d.nameNode);
      }
    }
    if (node.type === 'Property' && !node.computed) skip.add(node.key as AnyNode);
    // require("Wifi").connect(…): a member of a runtime module is the runtime's, not a use of our method.
    if (node.type === 'MemberExpression' && !node.computed && isRequireCall(node.object as AnyNode)) skip.add(node.property as AnyNode);
    if (!skip.has(node)) {
      // A method is reached only through a member (`x.m`) or a name as a string; a variable, parameter or
      // function of the same name is not a use (the outbox store's local `find` kept Ring.find alive).
      if (node.type === 'Identifier' && parent && parent.type === 'MemberExpression' && parent.property === node && !parent.computed && !fieldUse(parent, grand)) count(node.name, node.start);
      else if (node.type === 'Literal' && typeof node.value === 'string') count(node.value, node.start);
    }
    for (const key of Object.keys(node)) {
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c)) visit(c, node, parent);
      } else if (isNode(v)) visit(v, node, parent);
    }
  };
  visit(ast, null, null);
  const usedOutsideItself = (name: string) =>
    (uses[name] || []).some((at) => !defs.some((d) => d.name === name && at >= d.start && at < d.end));
  const dead = defs.filter((d) => keep.indexOf(d.name) < 0 && !usedOutsideItself(d.name)).sort((a, b) => b.start - a.start);
  let out = code;
  for (const d of dead) out = out.substring(0, d.start) + out.substring(d.end);
  return { code: out, removed: dead.map((d) => d.name), kept: defs.filter((d) => dead.indexOf(d) < 0).map((d) => d.name) };
}

/**
 * Removes unused methods until none is left (removing one can leave another
 * unused). Methods named in `keep` stay: a measurement that leaves a module
 * out keeps what that module would have called.
 */
export function pruneUnusedMethods(code: string, keep?: string[]): { code: string; removed: string[]; kept: string[] } {
  const removed: string[] = [];
  for (;;) {
    const r = pruneOnce(code, keep || []);
    if (r.removed.length === 0) return { code: code, removed: removed, kept: r.kept };
    code = r.code;
    for (const name of r.removed) removed.push(name);
  }
}
