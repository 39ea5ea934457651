/**
 * Lifts TypeScript's class wrappers to the bundle's top level.
 *
 * On Espruino a function made inside another function keeps a link to that
 * scope: one variable more per function object (docs/device-cost.md). ES5
 * classes arrive wrapped, `var A = function () { function A() {…} return
 * A.prototype.m = function () {…}, A }()`, so every method pays it, and the
 * wrapper's scope is kept besides. This step rewrites each such wrapper, as
 * terser leaves it, into its statements at the top level:
 * `function A() {…} A.prototype.m = function () {…};`. A wrapper whose body
 * holds anything but the class function, expressions and the final return is
 * left as it is. The bundle is then a script of top-level declarations
 * (terser's final pass gives them short names that avoid Espruino's globals).
 */
import { parse } from 'acorn';
import type { Node } from 'acorn';
import { ancestor } from 'acorn-walk';
import { applyEdits } from './edits.js';
import type { Edit } from './edits.js';

type AnyNode = Node & { [key: string]: any };

/** The class a declarator builds, when it is a wrapper this step can lift. */
function wrapper(decl: AnyNode): { fn: AnyNode; cls: AnyNode; inner: string; param: string | null; arg: string | null; ret: AnyNode } | null {
  const call = decl.init;
  if (!call || call.type !== 'CallExpression' || call.callee.type !== 'FunctionExpression') return null;
  const fn = call.callee;
  if (fn.params.length > 1 || call.arguments.length !== fn.params.length) return null;
  if (fn.params.length && (fn.params[0].type !== 'Identifier' || call.arguments[0].type !== 'Identifier')) return null;
  const body: AnyNode[] = fn.body.body;
  // The class function, and before it at most the `__extends(Class, _super)` TypeScript puts first.
  const at = body.length > 1 && body[0].type === 'ExpressionStatement' ? 1 : 0;
  if (body.length < at + 2 || body[at].type !== 'FunctionDeclaration') return null;
  const cls: AnyNode = body[at];
  const inner: string = cls.id.name;
  const ret = body[body.length - 1];
  if (ret.type !== 'ReturnStatement' || !ret.argument) return null;
  const last = ret.argument.type === 'SequenceExpression' ? ret.argument.expressions[ret.argument.expressions.length - 1] : ret.argument;
  if (last.type !== 'Identifier' || last.name !== inner) return null;
  for (let i = 0; i < body.length - 1; i++) if (i !== at && body[i].type !== 'ExpressionStatement') return null;
  return { fn, cls, inner, param: fn.params.length ? fn.params[0].name : null, arg: fn.params.length ? call.arguments[0].name : null, ret };
}

/** `code` with every liftable class wrapper declared at the top level of the program lifted. */
export function flattenClasses(code: string): { code: string; lifted: string[] } {
  const program = parse(code, { ecmaVersion: 5, sourceType: 'script' }) as AnyNode;
  const edits: Edit[] = [];
  const lifted: string[] = [];
  for (const statement of program.body as AnyNode[]) {
    if (statement.type !== 'VariableDeclaration') continue;
    const parts: string[] = [];
    let pending: string[] = [];
    let changed = false;
    const flushVars = () => {
      if (pending.length) parts.push('var ' + pending.join(',') + ';');
      pending = [];
    };
    for (const decl of statement.declarations as AnyNode[]) {
      const w = decl.id.type === 'Identifier' ? wrapper(decl) : null;
      if (!w) {
        pending.push(code.slice(decl.start, decl.end));
        continue;
      }
      const body = liftedBody(code, w, decl.id.name);
      if (body === null) {
        pending.push(code.slice(decl.start, decl.end));
        continue;
      }
      changed = true;
      flushVars();
      parts.push(body);
      lifted.push(decl.id.name);
    }
    if (!changed) continue;
    flushVars();
    edits.push({ start: statement.start, end: statement.end, text: parts.join('\n') });
  }
  return { code: applyEdits(code, edits), lifted };
}

/** The names function `fn` binds itself: its own name (an expression's), its parameters, and the vars and functions inside it. */
function boundNames(fn: AnyNode): Set<string> {
  const names = new Set<string>();
  if (fn.id && fn.type !== 'FunctionDeclaration') names.add(fn.id.name);
  for (const p of fn.params as AnyNode[]) names.add(p.name);
  ancestor(fn.body, {
    VariableDeclarator(d: AnyNode, _s: unknown, anc: AnyNode[]) {
      if (innermostFunction(anc) === null) names.add(d.id.name);
    },
    FunctionDeclaration(f: AnyNode, _s: unknown, anc: AnyNode[]) {
      if (innermostFunction(anc) === null) names.add(f.id.name);
    },
  });
  return names;
}

/** The innermost function among `ancestors` (the node itself, at the end, excluded); null when there is none below the walk's start. */
function innermostFunction(ancestors: AnyNode[]): AnyNode | null {
  for (let i = ancestors.length - 2; i >= 0; i--) if (/Function/.test(ancestors[i].type)) return ancestors[i];
  return null;
}

/** The wrapper's statements for the top level: the class named `outer`, its parameter read as its argument. */
function liftedBody(code: string, w: NonNullable<ReturnType<typeof wrapper>>, outer: string): string | null {
  const renames: { [name: string]: string } = {};
  renames[w.inner] = outer;
  if (w.param && w.arg) renames[w.param] = w.arg;
  const body = w.fn.body as AnyNode;
  const edits: Edit[] = [];
  // A name declared again by the wrapper itself is another binding of the same scope: such a wrapper stays. One
  // declared by a function inside (terser inlines a helper used once, e.g. `__extends`, whose parameters are often
  // the same short names) is that function's own: its uses there are left alone.
  let shadowed = false;
  for (const st of body.body as AnyNode[]) {
    if (st.type === 'VariableDeclaration') for (const d of st.declarations as AnyNode[]) if (renames[d.id.name] !== undefined) shadowed = true;
    if (st.type === 'FunctionDeclaration' && st !== w.cls && renames[st.id.name] !== undefined) shadowed = true;
  }
  if (shadowed) return null;
  const bound = new Map<AnyNode, Set<string>>(); // per function inside, what it binds: each is walked once
  const binds = (fn: AnyNode, name: string): boolean => {
    if (!/Function/.test(fn.type)) return false;
    let names = bound.get(fn);
    if (!names) bound.set(fn, (names = boundNames(fn)));
    return names.has(name);
  };
  ancestor(body, {
    Identifier(node: AnyNode, _state: unknown, ancestors: AnyNode[]) {
      const to = renames[node.name];
      if (to === undefined || to === node.name) return;
      const parent = ancestors[ancestors.length - 2];
      if (parent && parent.type === 'MemberExpression' && parent.property === node && !parent.computed) return;
      if (parent && parent.type === 'Property' && parent.key === node && !parent.computed) return;
      for (let i = ancestors.length - 2; i >= 0 && ancestors[i] !== w.fn; i--) if (binds(ancestors[i], node.name)) return;
      edits.push({ start: node.start, end: node.end, text: to });
    },
  });
  const declared = w.cls.id as AnyNode; // acorn-walk does not visit a declaration's own name
  if (declared.name !== outer) edits.push({ start: declared.start, end: declared.end, text: outer });
  const text = (from: number, to: number) => applyEdits(code, edits, from, to);
  const statements = body.body as AnyNode[];
  // The class function first: Espruino hoists no function, and `__extends` reads it.
  const out: string[] = [text(w.cls.start, w.cls.end)];
  for (let i = 0; i < statements.length - 1; i++) if (statements[i] !== w.cls) out.push(text(statements[i].start, statements[i].end));
  const arg = w.ret.argument as AnyNode;
  if (arg.type === 'SequenceExpression') {
    const exprs = arg.expressions as AnyNode[];
    out.push(text(exprs[0].start, exprs[exprs.length - 2].end) + ';');
  }
  return out.join('\n');
}
