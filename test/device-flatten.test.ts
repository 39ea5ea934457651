/**
 * The device build's source rewrites after terser's first pass (src/cli/flatten.ts,
 * src/cli/break-lines.ts): each keeps what the program does and changes only its shape.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import vm from 'node:vm';
import { breakLongLines } from '../src/cli/break-lines.js';
import { flattenClasses } from '../src/cli/flatten.js';
import { declareLateVars } from '../src/cli/late-vars.js';
import { checkBundle, MAX_LINE } from '../src/cli/gate.js';

function run(code: string): unknown {
  const ctx: { out?: unknown } = {};
  vm.runInNewContext(code, ctx);
  return JSON.parse(JSON.stringify(ctx.out)); // a plain value of this realm
}

// Terser's shape of TypeScript's ES5 classes: a wrapper returning a sequence, a derived one taking its base.
const CLASSES =
  'var Base$1=function(){function Base(n){this.n=n}return Base.prototype.twice=function(){return 2*this.n},Base.make=function(n){return new Base(n)},Base}(),' +
  'kept=1,Sub=function(t){function Sub(n){return t.call(this,n+kept)||this}return ex(Sub,t),Sub.prototype.twice=function(){return t.prototype.twice.call(this)+1},Sub}(Base$1);' +
  'function ex(d,b){function F(){this.constructor=d}F.prototype=b.prototype;d.prototype=new F}' +
  'out=[Base$1.make(3).twice(),new Sub(3).twice(),kept];';

test('flatten: class wrappers become top-level statements, renamed to their binding, and the program does the same', () => {
  const before = run(CLASSES);
  const r = flattenClasses(CLASSES);
  assert.deepEqual(r.lifted, ['Base$1', 'Sub']);
  assert.doesNotMatch(r.code, /function\(\)\{function Base/);
  assert.match(r.code, /function Base\$1\(n\)/);
  assert.match(r.code, /ex\(Sub,Base\$1\)/);
  // ex is declared after the use: the build's final pass hoists functions; here it is a plain script, so it runs.
  assert.deepEqual(run(r.code), before);
  assert.deepEqual(before, [6, 9, 1]);
});

test('flatten: a wrapper with more than the class in it stays a wrapper', () => {
  const withLocal = 'var A=function(){var secret=2;function A(){}return A.prototype.s=function(){return secret},A}();out=new A().s();';
  assert.deepEqual(flattenClasses(withLocal).lifted, []);
});

test('flatten: a name a function inside binds again is its own, and is left alone when the class is renamed', () => {
  const shadowed = 'var B$1=function(){function B(){}return B.prototype.f=function(B){return B+1},B.prototype.g=function(){var B=5;return B},B}();out=[new B$1().f(1),new B$1().g()];';
  const r = flattenClasses(shadowed);
  assert.deepEqual(r.lifted, ['B$1']);
  assert.match(r.code, /function\(B\)\{return B\+1\}/);
  assert.deepEqual(run(r.code), [2, 5]);
});

test('flatten: a subclass wrapper, `__extends` first and the base as its argument, is lifted with its class function first', () => {
  const code =
    'function __extends(d,b){function P(){this.constructor=d}P.prototype=b.prototype;d.prototype=new P}' +
    'var Base=function(){function Base(){this.k=1}return Base.prototype.m=function(){return this.k},Base}();' +
    'var Sub=function(_super){__extends(Sub,_super);function Sub(){var _this=_super.call(this)||this;_this.k=2;return _this}' +
    'return Sub.prototype.n=function(){return function(_super){return _super+1}(this.m())},Sub}(Base);out=[new Sub().m(),new Sub().n()];';
  const r = flattenClasses(code);
  assert.deepEqual(r.lifted, ['Base', 'Sub']);
  assert.ok(r.code.indexOf('function Sub(') < r.code.indexOf('__extends(Sub,Base)'), r.code);
  assert.match(r.code, /function\(_super\)\{return _super\+1\}/); // the inner function's own parameter
  assert.deepEqual(run(r.code), [2, 3]);
});

test('late vars: only a var used before or outside its declaration is declared at the start of its function', () => {
  // r: declared in one branch, used in another; q: used before its var runs; c: read by a function inside;
  // k: declared in a branch and used only there, stays where it is (Espruino makes it only if the branch runs).
  const code = 'function f(n){if(n)(r=n*2);else{var r;r=7}q=1;var q;var g=function(){return c};var c=3;if(n>5){var k=n;r+=k}return r+q+g()}out=[f(2),f(0),f(9)];';
  const late = /declared inside a block|before its var/;
  assert.ok(checkBundle(code, 'x.js').some((v) => late.test(v.reason)));
  const fixed = declareLateVars(code);
  assert.match(fixed, /^function f\(n\)\{var r,q,c;/);
  assert.equal(fixed.split('var k').length, 2, 'k is declared once, in its branch');
  assert.deepEqual(checkBundle(fixed, 'x.js').filter((v) => late.test(v.reason)), []);
  assert.deepEqual(run(fixed), run(code));
});

test('break-lines: a line over the limit is broken after operators into lines the gate accepts, meaning the same', () => {
  let chain = '';
  for (let i = 0; i < 30; i++) chain += 'k===' + i + '?"value number ' + i + ', long":';
  const code = 'function f(k){return ' + chain + '"none"}out=[f(0),f(17),f(99)];\nvar short=1;';
  assert.ok(code.split('\n')[0].length > MAX_LINE);
  const broken = breakLongLines(code);
  for (const line of broken.split('\n')) assert.ok(line.length <= MAX_LINE, line.length + ': ' + line.slice(0, 60));
  assert.deepEqual(run(broken), ['value number 0, long', 'value number 17, long', 'none']);
  assert.equal(breakLongLines('var a=1;\nvar b=2;'), 'var a=1;\nvar b=2;'); // short lines untouched
});
