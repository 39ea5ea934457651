/**
 * Rules the device source must keep that the bundle gate cannot see, because
 * minified code has lost its types.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { ROOT } from '../src/cli/bundle.js';

/** The device code: what tsconfig.device.json type-checks against ES5. */
function deviceProgram(): ts.Program {
  const file = join(ROOT, 'tsconfig.device.json');
  const config = ts.readConfigFile(file, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  return ts.createProgram(parsed.fileNames, parsed.options);
}

/** `s.indexOf("…")` calls on a string with a literal of more than one character, as file:line. */
function multiCharStringSearches(program: ts.Program): string[] {
  const checker = program.getTypeChecker();
  const found: string[] = [];
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || sf.fileName.indexOf(ROOT) !== 0) continue;
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === 'indexOf' &&
        node.arguments.length > 0 &&
        ts.isStringLiteralLike(node.arguments[0]) &&
        node.arguments[0].text.length > 1 &&
        checker.getTypeAtLocation(node.expression.expression).flags & ts.TypeFlags.StringLike
      ) {
        found.push(sf.fileName.substring(ROOT.length + 1) + ':' + (sf.getLineAndCharacterOfPosition(node.getStart()).line + 1));
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

test('device source: no String indexOf of a longer literal (2v29 also "finds" a partial match at the end); indexOfText instead', () => {
  const program = deviceProgram();
  assert.ok(program.getSourceFiles().some((f) => f.fileName.endsWith('src/core/address.ts')), 'the device program covers the core');
  assert.deepEqual(multiCharStringSearches(program), []);
});

test('device source: the rule sees a string search and passes array searches and single characters', () => {
  const text = 'const s: string = "a:/"; const a: string[] = []; s.indexOf("://"); a.indexOf("xy"); s.indexOf(":");';
  const host = ts.createCompilerHost({});
  const name = join(ROOT, 'probe.ts');
  const getSourceFile = host.getSourceFile;
  host.getSourceFile = (f, v) => (f === name ? ts.createSourceFile(f, text, v) : getSourceFile.call(host, f, v));
  const program = ts.createProgram([name], { lib: ['lib.es5.d.ts'], types: [] }, host);
  assert.deepEqual(multiCharStringSearches(program), ['probe.ts:1']);
});
