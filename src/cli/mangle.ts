/**
 * Which property names a device bundle may shorten.
 *
 * On Espruino a property name longer than 4 characters costs one more
 * variable in every object that has it (a prototype slot, an instance field),
 * and flash in the text. A device bundle is a whole program: every class,
 * interface and option object in it is the project's or the app's, so such a
 * name may be renamed consistently everywhere — unless it crosses out of the
 * bundle. Those stay: JSON the device writes or reads (members of an
 * interface tagged `@wire`, keys of a literal given to JSON.stringify), the
 * runtime's objects (Espruino's API as @types/espruino declares it, ambient
 * declarations, the Espruino drivers' interfaces tagged `@runtime`), names code looks up by
 * string (any identifier-like string literal), and JavaScript's built-ins.
 * A new JSON shape must be tagged `@wire`; a computed read (`o[k]`) of some
 * other name must list it in RUNTIME_NAMES.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import ts from 'typescript';

/**
 * Names the runtime owns: Espruino's socket, Wi-Fi, Storage and E APIs, data read from JSON, and JavaScript's
 * built-ins; and the URL schemes, the keys of the default-port tables parseAddress looks a URL's scheme up in (a
 * board profile's `sntp` field once shortened the SNTP client's `sntp` port).
 */
const RUNTIME_NAMES = new Set(
  (
    'on emit write end close listen connect createServer createSocket bind send getIP readJSON toString toUint8Array ' +
    'address port host ip ssid password code message ca cert key data length prototype constructor ringnet ' +
    'tcp udp tls mqtt mqtts http https ws wss sntp ntp'
  ).split(' '),
);

function builtinNames(): Set<string> {
  const names = new Set<string>();
  const sources: object[] = [Object, Object.prototype, Array, Array.prototype, String, String.prototype, Function.prototype, Number, Number.prototype, Math, JSON, Date, Date.prototype, Promise, Promise.prototype, Error, Error.prototype, RegExp.prototype, Uint8Array, Uint8Array.prototype, Object.getPrototypeOf(Uint8Array.prototype), ArrayBuffer.prototype, DataView.prototype];
  for (const s of sources) for (const n of Object.getOwnPropertyNames(s)) names.add(n);
  return names;
}

let espruinoDts: ts.SourceFile | null = null;
let espruinoApi: Set<string> | null = null;
let espruinoTopLevel: string[] | null = null;

/** @types/espruino's declarations, parsed once per process. */
function espruinoDeclarations(): ts.SourceFile {
  if (!espruinoDts) {
    const file = createRequire(import.meta.url).resolve('@types/espruino/index.d.ts');
    espruinoDts = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2020, true);
  }
  return espruinoDts;
}

/**
 * Every member and function name @types/espruino declares (Espruino's own API: net, Wifi, Storage, E, sockets …).
 * Not its parameters' names: no object of the runtime has a property by them (they kept `count`, `options` and
 * `listener` long: a variable more in every object that has one).
 */
function espruinoNames(): Set<string> {
  if (espruinoApi) return espruinoApi;
  const names = new Set<string>();
  const visit = (node: ts.Node) => {
    const name = (node as { name?: ts.Node }).name;
    if (name && (ts.isIdentifier(name) || ts.isStringLiteral(name)) && !ts.isParameter(node) && !ts.isTypeParameterDeclaration(node)) names.add(name.text);
    ts.forEachChild(node, visit);
  };
  visit(espruinoDeclarations());
  return (espruinoApi = names);
}

/**
 * Names a top-level declaration of a bundle must not take: Espruino's globals
 * and its pin names (a bundle is a script, so its declarations share the device's
 * global scope with them).
 */
export function espruinoGlobals(): string[] {
  if (espruinoTopLevel) return espruinoTopLevel;
  const names: string[] = [];
  for (const node of espruinoDeclarations().statements) {
    const name = (node as { name?: ts.Node }).name;
    if (name && ts.isIdentifier(name)) names.push(name.text);
    if (ts.isVariableStatement(node)) for (const d of node.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
  }
  for (let i = 0; i < 48; i++) names.push('D' + i, 'A' + i);
  for (let i = 1; i < 9; i++) names.push('LED' + i, 'BTN' + i);
  return (espruinoTopLevel = names);
}

/** The .ts files under `dir` (or `dir` itself when it is one), declaration files only when asked. */
export function tsFiles(dir: string, out: string[], declarations?: boolean): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) {
      if (dir.endsWith('.ts') && (declarations || !dir.endsWith('.d.ts'))) out.push(dir);
      return out;
    }
    entries = readdirSync(dir);
  } catch (e) {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) tsFiles(path, out, declarations);
    else if (name.endsWith('.ts') && (declarations || !name.endsWith('.d.ts'))) out.push(path);
  }
  return out;
}

function memberName(node: ts.Node): string | null {
  const name = (node as { name?: ts.PropertyName }).name;
  if (!name) return null;
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  return null;
}

/**
 * Whether `node` sits in an interface or type alias tagged `@wire` (JSON) or
 * `@runtime` (an object the interpreter makes: a socket, Storage), or in an
 * ambient declaration (`declare …`).
 */
function crossesOut(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if ((ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) && ts.getJSDocTags(n).some((t) => t.tagName.text === 'wire' || t.tagName.text === 'runtime')) return true;
    const mods = ts.canHaveModifiers(n) ? ts.getModifiers(n) : undefined;
    if (mods && mods.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword)) return true;
    if (ts.isModuleDeclaration(n)) return true;
  }
  return false;
}

/** Whether `node` is an object literal written straight into `JSON.stringify(…)`. */
function isJsonLiteral(node: ts.Node): boolean {
  const call = node.parent;
  return !!call && ts.isCallExpression(call) && call.expression.getText() === 'JSON.stringify';
}

let owned: string[] | null = null;

/**
 * Names a shortened member must not become: JavaScript's built-ins and
 * Espruino's API (terser's own list of such names is the DOM's, which it is
 * told to ignore: it kept names like `opened` and `capacity` long). Sorted.
 */
export function ownedNames(): string[] {
  if (owned) return owned; // every bundle's terser pass asks: the same list each time
  return (owned = Array.from(new Set<string>([...builtinNames(), ...espruinoNames(), ...RUNTIME_NAMES])).sort());
}

/**
 * Member names of the sources under `dirs` (files or directories relative to
 * `root`: everything a bundle is made of) that may be shortened: those of
 * classes, interfaces and types, longer than 2 characters, unless the name
 * also crosses out of the bundle — a member of an interface or type tagged
 * `@wire` (JSON a device writes or reads) or `@runtime` (the interpreter's
 * objects, as the Espruino drivers describe them), of an ambient declaration, a key of an
 * object literal given to JSON.stringify, a string literal anywhere (code
 * that looks a name up), or a name Espruino or JavaScript owns. Sorted.
 */
export function internalNames(root: string, dirs: string[]): string[] {
  const members = new Set<string>();
  const reserved = new Set<string>();
  const files = new Set<string>();
  for (const dir of dirs) for (const f of tsFiles(join(root, dir), [], true)) files.add(f);
  files.forEach((file) => {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2020, true);
    const boundary = file.endsWith('.d.ts');
    const visit = (node: ts.Node) => {
      const literal = node.parent && ts.isObjectLiteralExpression(node.parent) ? node.parent : null;
      const name = memberName(node);
      if (ts.isStringLiteral(node) && /^[A-Za-z_$][\w$]*$/.test(node.text)) reserved.add(node.text);
      if (name && literal) {
        if (isJsonLiteral(literal)) reserved.add(name);
      } else if (name && (ts.isClassElement(node) || ts.isParameterPropertyDeclaration(node, node.parent))) {
        members.add(name);
      } else if (name && ts.isTypeElement(node)) {
        if (crossesOut(node) || boundary) reserved.add(name);
        else members.add(name);
      } else if (name && ts.isEnumMember(node)) reserved.add(name);
      ts.forEachChild(node, visit);
    };
    visit(sf);
  });
  const builtins = builtinNames();
  const espruino = espruinoNames();
  const out: string[] = [];
  members.forEach((name) => {
    if (!reserved.has(name) && !RUNTIME_NAMES.has(name) && !builtins.has(name) && !espruino.has(name) && name.length > 2) out.push(name);
  });
  return out.sort();
}
