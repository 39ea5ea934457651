/**
 * Which property names a device bundle may shorten.
 *
 * On Espruino a long property name costs flash and, in every object that has
 * it, an extra variable block of RAM. Members that are `private` or marked
 * `@internal` in reviewed code (the core, the Espruino driver) never cross
 * into the runtime, so terser may rename them — unless the same name is also
 * public, or private in unreviewed code, anywhere in the project (another
 * class, an interface, an object literal, a board profile) or belongs to the
 * runtime (Espruino's or JavaScript's own API). Code that reads a runtime or
 * JSON object by a name listed here would break: keep such names public or
 * add them to RUNTIME_NAMES.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** Names the runtime owns: Espruino's socket, Wi-Fi, Storage and E APIs, data read from JSON, and JavaScript's built-ins. */
const RUNTIME_NAMES = new Set(
  (
    'on emit write end close listen connect createServer createSocket bind send getIP readJSON toString toUint8Array ' +
    'address port host ip ssid password code message ca cert key data length prototype constructor'
  ).split(' '),
);

function builtinNames(): Set<string> {
  const names = new Set<string>();
  const sources: object[] = [Object, Object.prototype, Array, Array.prototype, String, String.prototype, Function.prototype, Number, Number.prototype, Math, JSON, Date, Date.prototype, Promise, Promise.prototype, Error, Error.prototype, RegExp.prototype, Uint8Array, Uint8Array.prototype, Object.getPrototypeOf(Uint8Array.prototype), ArrayBuffer.prototype, DataView.prototype];
  for (const s of sources) for (const n of Object.getOwnPropertyNames(s)) names.add(n);
  return names;
}

function tsFiles(dir: string, out: string[]): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) {
      if (dir.endsWith('.ts')) out.push(dir);
      return out;
    }
    entries = readdirSync(dir);
  } catch (e) {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function isInternal(node: ts.Node): boolean {
  const mods = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  if (mods && mods.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return true;
  return ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal');
}

function memberName(node: ts.Node): string | null {
  const name = (node as { name?: ts.PropertyName }).name;
  if (!name) return null;
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  return null;
}

/**
 * Internal member names safe to shorten: `private`/`@internal` members of the
 * code under `internalDirs` (files or directories relative to `root`) whose
 * names are not also public anywhere under `publicDirs`. Sorted.
 */
export function internalNames(root: string, internalDirs: string[], publicDirs: string[]): string[] {
  const internal = new Set<string>();
  const publicNames = new Set<string>();
  const owned = new Set<string>();
  for (const dir of internalDirs) for (const f of tsFiles(join(root, dir), [])) owned.add(f);
  const all = new Set<string>(owned);
  for (const dir of publicDirs) for (const f of tsFiles(join(root, dir), [])) all.add(f);
  for (const file of all) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2020, true);
    const visit = (node: ts.Node) => {
      if (ts.isClassElement(node) || ts.isParameterPropertyDeclaration(node, node.parent)) {
        const name = memberName(node);
        if (name) (isInternal(node) && owned.has(file) ? internal : publicNames).add(name);
      } else if (ts.isPropertySignature(node) || ts.isMethodSignature(node) || ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) {
        const name = memberName(node);
        if (name) publicNames.add(name);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  const builtins = builtinNames();
  const out: string[] = [];
  internal.forEach((name) => {
    if (!publicNames.has(name) && !RUNTIME_NAMES.has(name) && !builtins.has(name) && name.length > 2) out.push(name);
  });
  return out.sort();
}
