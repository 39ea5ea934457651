/**
 * The static half of the Espruino compatibility gate: parse a bundle as ES5
 * and reject every construct the interpreter is known to get wrong that can be
 * seen in the text (shared/ESPRUINO.md, measured on 2v29). The runtime half is
 * the sandbox (sandbox.ts).
 *
 * Each rule names bundle, line, column and the reason, with a few characters
 * of the code around it (bundles are minified onto one line).
 */
import { parse } from 'acorn';
import type { Node } from 'acorn';
import { simple } from 'acorn-walk';

export interface Violation {
  bundle: string;
  line: number;
  column: number;
  reason: string;
  excerpt: string;
}

/** Globals the Espruino builds provide (measured on 2v29), plus pin names. Anything else is missing on the device. */
const GLOBALS = new Set(
  (
    'Object Array String Number Boolean Function Math JSON Date RegExp Error TypeError SyntaxError ReferenceError InternalError ' +
    'Uint8Array Int8Array Uint16Array Int16Array Uint32Array Int32Array Float32Array Float64Array Uint8ClampedArray ArrayBuffer ' +
    'ArrayBufferView DataView Promise parseInt parseFloat isNaN isFinite setTimeout setInterval clearTimeout clearInterval ' +
    'changeInterval console process E require getTime setTime btoa atob encodeURIComponent decodeURIComponent global globalThis ' +
    'print Infinity NaN undefined Pin Serial Serial1 Serial2 SPI SPI1 I2C I2C1 OneWire load save reset dump trace ' +
    'digitalWrite digitalRead digitalPulse analogRead analogWrite pinMode getPinMode setWatch clearWatch shiftOut ' +
    'getSerial setDeepSleep setSleepIndicator setBusyIndicator peek8 peek16 peek32 poke8 poke16 poke32'
  ).split(' '),
);
const PIN_NAME = /^(D\d{1,2}|A\d|LED\d?|BTN\d?)$/;

/** Static members missing on Espruino, by global. */
const MISSING_STATICS: { [global: string]: string[] } = {
  Number: ['isInteger', 'isFinite', 'isNaN', 'isSafeInteger', 'parseInt', 'parseFloat', 'EPSILON', 'MAX_SAFE_INTEGER', 'MIN_SAFE_INTEGER'],
  Math: ['imul', 'trunc', 'log2', 'log10', 'log1p', 'expm1', 'clz32', 'fround', 'hypot', 'cbrt', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh'],
  Array: ['from', 'of'],
  ArrayBuffer: ['isView'],
  Object: ['freeze', 'seal', 'is', 'isFrozen', 'isSealed', 'preventExtensions', 'getOwnPropertySymbols'],
  Promise: ['race', 'allSettled', 'any'],
  Date: ['UTC'],
  String: ['fromCodePoint', 'raw'],
  Error: ['captureStackTrace'],
};
const TYPED_ARRAYS = [
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'Uint8ClampedArray',
];
for (const t of TYPED_ARRAYS) MISSING_STATICS[t] = ['from', 'of'];

/** Methods missing on Espruino's arrays, strings, typed arrays or promises (flagged when called, whatever the receiver). */
const MISSING_METHODS = new Set([
  'at',
  'flat',
  'flatMap',
  'reduceRight',
  'copyWithin',
  'trimStart',
  'trimEnd',
  'localeCompare',
  'normalize',
  'codePointAt',
  'finally',
]);
/** Iterator methods: missing on arrays; fine as Object.keys/entries/values. */
const ITERATOR_METHODS = new Set(['keys', 'entries', 'values']);
/** Built-ins whose prototype members read as undefined on Espruino (calling them on an instance works). */
const PROTOTYPE_UNREADABLE = new Set(
  ['Array', 'String', 'Function', 'Number', 'Boolean', 'RegExp', 'Date', 'Error', 'Promise', 'ArrayBuffer', 'DataView'].concat(TYPED_ARRAYS),
);
/** Child keys that lead into a branch, loop body, case or handler: code there may not run. */
const REGION_KEYS = new Set(['consequent', 'alternate', 'body', 'block', 'handler', 'finalizer', 'cases']);
const ERROR_CLASSES = /^(Error|TypeError|SyntaxError|ReferenceError|RangeError|EvalError|URIError|InternalError)$/;

interface Decl {
  kind: 'var' | 'function' | 'param';
  start: number;
  /** Range where a declaration nested in a block or branch exists; null when it is at the top of its function. */
  region: [number, number] | null;
}

interface Scope {
  parent: Scope | null;
  decls: Map<string, Decl>;
  /** The function (or program) whose body this is; null for a catch clause. */
  owner: AnyNode | null;
  /** A catch clause's scope shares its function's body ordering. */
  isFunction: boolean;
}

type AnyNode = Node & { [key: string]: any };

function isNode(x: unknown): x is AnyNode {
  return !!x && typeof (x as AnyNode).type === 'string';
}

function children(node: AnyNode): { key: string; child: AnyNode }[] {
  const out: { key: string; child: AnyNode }[] = [];
  for (const key of Object.keys(node)) {
    if (key === 'loc' || key === 'start' || key === 'end' || key === 'type') continue;
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (isNode(c)) out.push({ key: key, child: c });
    } else if (isNode(v)) out.push({ key: key, child: v });
  }
  return out;
}

/** Problems in a regex source that Espruino accepts but never matches (or ignores). */
export function regexProblems(pattern: string, flags: string): string[] {
  const problems: string[] = [];
  if (flags.indexOf('y') >= 0) problems.push('the y flag is ignored');
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    const next = pattern.charAt(i + 1);
    if (c === '\\') {
      if (!inClass && (next === 'b' || next === 'B')) problems.push('\\' + next + ' never matches');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(' && next === '?') {
      problems.push('(?' + pattern.charAt(i + 2) + '…) groups never match');
      i++;
    } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.substring(i))) problems.push('{n,m} quantifiers never match');
    else if ((c === '+' || c === '*' || c === '?' || c === '}') && next === '?') problems.push('lazy quantifiers (' + c + '?) never match');
  }
  return problems;
}

/** Whether a global of that name is the interpreter's own (a built-in or a pin), not one a bundle made. */
export function espruinoOwns(name: string): boolean {
  return GLOBALS.has(name) || PIN_NAME.test(name);
}

/** terser breaks bundle lines near this length where the syntax lets it (max_line_len). */
export const LINE_TARGET = 100;
/** The longest line the gate lets through: terser's breaks are best effort. */
export const MAX_LINE = 400;

/**
 * Checks one bundle. Returns every violation found (empty: the bundle is
 * inside the subset as far as the text can show).
 */
export function checkBundle(code: string, bundle: string): Violation[] {
  return analyse(code, bundle, null);
}

/**
 * Where a bundle needs a declaration at the top of a function: each var that
 * is used before its `var` runs, outside the block that declares it, or from a
 * function inside (which may run before it). Every other var is declared
 * where it is: Espruino makes a variable when a `var` runs, so a local of a
 * branch not taken, or of code after the call deepest in the stack, costs
 * nothing (hoisting all of them took 21 variables for every running poll()).
 */
export function lateVars(code: string): { body: AnyNode; names: string[] }[] {
  const found = new Map<AnyNode, string[]>();
  analyse(code, '', (owner, name) => {
    const body = owner.type === 'Program' ? owner : owner.body;
    let names = found.get(body);
    if (!names) found.set(body, (names = []));
    if (names.indexOf(name) < 0) names.push(name);
  });
  const out: { body: AnyNode; names: string[] }[] = [];
  found.forEach((names, body) => out.push({ body: body, names: names }));
  return out;
}

/** The gate's walk; with `late`, vars used before or outside their declaration go to it instead of being reported. */
function analyse(code: string, bundle: string, late: ((owner: AnyNode, name: string) => void) | null): Violation[] {
  const violations: Violation[] = [];
  let lineStarts: number[] | null = null;
  const report = (pos: number, reason: string) => {
    if (!lineStarts) {
      lineStarts = [0];
      for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) lineStarts.push(i + 1);
    }
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= pos) line++;
    const excerpt = code.substring(Math.max(0, pos - 30), Math.min(code.length, pos + 50)).replace(/\s+/g, ' ');
    violations.push({ bundle: bundle, line: line + 1, column: pos - lineStarts[line] + 1, reason: reason, excerpt: excerpt });
  };

  // An exception copies its line of source into RAM for the stack trace; a one-line bundle put the whole bundle there.
  for (let at = 0, line = 0; at < code.length; line++) {
    let end = code.indexOf('\n', at);
    if (end < 0) end = code.length;
    if (end - at > MAX_LINE) report(at, 'line ' + (line + 1) + ' is ' + (end - at) + ' characters: an exception on it copies the whole line into RAM (keep lines to ' + MAX_LINE + ')');
    at = end + 1;
  }

  let ast: AnyNode;
  try {
    ast = parse(code, { ecmaVersion: 5, sourceType: 'script', allowReserved: true }) as AnyNode;
  } catch (e) {
    const err = e as Error & { pos?: number };
    report(err.pos || 0, 'not ES5: ' + err.message.replace(/ \(\d+:\d+\)$/, ''));
    return violations;
  }

  /**
   * Declarations of one function body. JS hoists vars and function declarations
   * to the top of it; Espruino defines each only when its statement runs, so a
   * declaration inside a branch, loop body or case gets a region it is valid in.
   */
  function collect(scope: Scope, statements: AnyNode[]): void {
    const visit = (node: AnyNode, region: [number, number] | null) => {
      if (node.type === 'FunctionDeclaration') {
        if (region) report(node.start, 'function ' + node.id.name + ' is declared inside a block: Espruino defines it only when that statement runs');
        const prev = scope.decls.get(node.id.name);
        if (!prev || prev.kind !== 'param') scope.decls.set(node.id.name, { kind: 'function', start: node.start, region: region });
        return; // its body is its own scope
      }
      if (node.type === 'FunctionExpression') return;
      if (node.type === 'VariableDeclarator') {
        const prev = scope.decls.get(node.id.name);
        if (!prev || (prev.kind === 'var' && prev.region && !region)) scope.decls.set(node.id.name, { kind: 'var', start: node.start, region: region });
      }
      // The innermost region: a var in a case of a switch inside an if exists only if that case ran. (A block's or a
      // case's own statements are not regions: they run in turn.)
      const opens = node.type !== 'BlockStatement' && node.type !== 'SwitchCase';
      for (const { key, child } of children(node)) visit(child, opens && REGION_KEYS.has(key) ? [child.start, child.end] : region);
    };
    for (const s of statements) visit(s, null);
  }

  function newFunctionScope(parent: Scope | null, fn: AnyNode | null, program: AnyNode | null): Scope {
    const scope: Scope = { parent: parent, decls: new Map(), isFunction: true, owner: fn || program };
    if (fn) {
      for (const p of fn.params) scope.decls.set(p.name, { kind: 'param', start: -1, region: null });
      scope.decls.set('arguments', { kind: 'param', start: -1, region: null });
      if (fn.type === 'FunctionExpression' && fn.id) scope.decls.set(fn.id.name, { kind: 'param', start: -1, region: null });
      collect(scope, fn.body.body);
    } else if (program) {
      collect(scope, program.body);
    }
    return scope;
  }

  function resolveName(scope: Scope, name: string): { scope: Scope; decl: Decl } | null {
    for (let s: Scope | null = scope; s; s = s.parent) {
      const d = s.decls.get(name);
      if (d) return { scope: s, decl: d };
    }
    return null;
  }

  function isGlobal(scope: Scope, node: AnyNode | undefined, name?: string): boolean {
    return !!node && node.type === 'Identifier' && (!name || node.name === name) && !resolveName(scope, node.name);
  }

  /** Walks with the scope chain; `fnScope` is the innermost function's scope (ordering checks only apply within it). */
  function walk(node: AnyNode, parent: AnyNode | null, key: string, scope: Scope, fnScope: Scope, underTypeof: boolean): void {
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'FunctionExpression': {
        const inner = newFunctionScope(scope, node, null);
        for (const s of node.body.body) walk(s, node.body, 'body', inner, inner, false);
        return;
      }
      case 'CatchClause': {
        const inner: Scope = { parent: scope, decls: new Map(), isFunction: false, owner: null };
        inner.decls.set(node.param.name, { kind: 'param', start: -1, region: null });
        walk(node.body, node, 'body', inner, fnScope, false);
        return;
      }
      case 'LabeledStatement':
        report(node.start, 'labels (' + node.label.name + ':) are not supported by Espruino');
        break;
      case 'ArrayExpression':
        if (node.elements.some((e: AnyNode | null) => e === null))
          report(node.start, 'array holes ([a,,b]) break Espruino\'s parser in skipped switch cases; write undefined');
        break;
      case 'Literal':
        if (node.regex) for (const p of regexProblems(node.regex.pattern, node.regex.flags)) report(node.start, 'regex /' + node.regex.pattern + '/: ' + p + ' on Espruino');
        break;
      case 'NewExpression':
      case 'CallExpression': {
        const callee = node.callee as AnyNode;
        if (isGlobal(scope, callee, 'RegExp') && node.arguments[0] && node.arguments[0].type === 'Literal' && typeof node.arguments[0].value === 'string') {
          const flags = node.arguments[1] && typeof node.arguments[1].value === 'string' ? node.arguments[1].value : '';
          for (const p of regexProblems(node.arguments[0].value, flags)) report(node.start, 'RegExp(' + JSON.stringify(node.arguments[0].value) + '): ' + p + ' on Espruino');
        }
        if (callee.type === 'FunctionExpression') {
          for (const a of node.arguments) if (a.type === 'Identifier' && ERROR_CLASSES.test(a.name) && isGlobal(scope, a)) report(node.start, 'a class extending ' + a.name + ' does not work on Espruino; use a plain error object with a code');
        }
        if (callee.type === 'MemberExpression' && !callee.computed) {
          const method = callee.property.name as string;
          if (MISSING_METHODS.has(method)) report(callee.property.start, '.' + method + '() does not exist on Espruino');
          if (ITERATOR_METHODS.has(method) && !isGlobal(scope, callee.object, 'Object')) report(callee.property.start, '.' + method + '() iterators do not exist on Espruino (Object.' + method + ' does)');
          if (method === 'create' && isGlobal(scope, callee.object, 'Object') && node.arguments.length > 1) report(node.start, 'Object.create with property descriptors is not supported by Espruino');
        }
        break;
      }
      case 'MemberExpression':
        if (!node.computed) {
          const obj = node.object as AnyNode;
          const prop = node.property.name as string;
          if (obj.type === 'Identifier' && MISSING_STATICS[obj.name] && MISSING_STATICS[obj.name].indexOf(prop) >= 0 && isGlobal(scope, obj))
            report(node.start, obj.name + '.' + prop + ' does not exist on Espruino');
          const isTarget = parent && parent.type === 'AssignmentExpression' && key === 'left';
          if (!isTarget && obj.type === 'MemberExpression' && !obj.computed && obj.property.name === 'prototype' && obj.object.type === 'Identifier' && PROTOTYPE_UNREADABLE.has(obj.object.name) && isGlobal(scope, obj.object))
            report(node.start, obj.object.name + '.prototype.' + prop + ' reads as undefined on Espruino; call it on an instance ([].slice.call(x))');
        }
        break;
      case 'AssignmentExpression':
      case 'UpdateExpression': {
        const target = (node.type === 'AssignmentExpression' ? node.left : node.argument) as AnyNode;
        if (target.type === 'MemberExpression' && !target.computed && target.property.name === 'length' && target.object.type !== 'ThisExpression')
          report(node.start, 'assigning .length throws on Espruino arrays ("Assignment to a constant"); use splice');
        if (target.type === 'Identifier' && !resolveName(scope, target.name) && !GLOBALS.has(target.name))
          report(node.start, 'assignment to undeclared ' + target.name + ' creates a global');
        break;
      }
      case 'UnaryExpression':
        if (node.operator === 'typeof' && node.argument.type === 'Identifier') {
          walk(node.argument, node, 'argument', scope, fnScope, true);
          return;
        }
        break;
      case 'Identifier':
        if (isReference(node, parent, key)) checkReference(node, scope, fnScope, underTypeof);
        return;
    }
    for (const { key: k, child } of children(node)) walk(child, node, k, scope, fnScope, false);
  }

  function isReference(node: AnyNode, parent: AnyNode | null, key: string): boolean {
    if (!parent) return true;
    switch (parent.type) {
      case 'MemberExpression':
        return key !== 'property' || parent.computed;
      case 'Property':
        return key !== 'key';
      case 'VariableDeclarator':
        return key !== 'id';
      case 'FunctionDeclaration':
      case 'FunctionExpression':
        return key !== 'id' && key !== 'params';
      case 'LabeledStatement':
      case 'BreakStatement':
      case 'ContinueStatement':
        return false;
      case 'CatchClause':
        return key !== 'param';
    }
    return true;
  }

  function checkReference(node: AnyNode, scope: Scope, fnScope: Scope, underTypeof: boolean): void {
    const name = node.name as string;
    const found = resolveName(scope, name);
    if (!found) {
      if (!underTypeof && !espruinoOwns(name)) report(node.start, name + ' does not exist on Espruino');
      return;
    }
    const d = found.decl;
    const inner = found.scope !== fnScope; // read by a function inside, which may run before the declaration
    const early = node.start < d.start;
    const outside = !!d.region && (node.start < d.region[0] || node.start >= d.region[1]);
    if (late && d.kind === 'var' && found.scope.owner) {
      if (inner || early || outside) late(found.scope.owner, name);
      return;
    }
    if (d.kind === 'param' || inner) return; // a closure may run later: order cannot be judged
    if (early) report(node.start, name + ' is used before its ' + (d.kind === 'function' ? 'function declaration' : 'var declaration') + ': Espruino does not hoist');
    else if (outside) report(node.start, 'var ' + name + ' is declared inside a block and used outside it: Espruino declares it only if that block runs');
  }

  const programScope = newFunctionScope(null, null, ast);
  for (const s of ast.body) walk(s, ast, 'body', programScope, programScope, false);
  return violations;
}

/** Function objects in a bundle (declarations, expressions, methods): from flash each costs RAM (see budget.ts). */
export function countFunctions(code: string): number {
  return functionShape(code).functions;
}

/** The function objects of a bundle and the parameters they declare (each kept by its function: see params.ts). */
export function functionShape(code: string): { functions: number; params: number } {
  let functions = 0;
  let params = 0;
  simple(parse(code, { ecmaVersion: 5 }) as any, {
    Function(node: any) {
      functions++;
      params += node.params.length;
    },
  });
  return { functions, params };
}

export function formatViolations(violations: Violation[]): string {
  return violations.map((v) => '  ' + v.bundle + ':' + v.line + ':' + v.column + '  ' + v.reason + '\n      … ' + v.excerpt + ' …').join('\n');
}
