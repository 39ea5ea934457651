/**
 * The build writes the board profile's and the settings' values into the code
 * that reads them (src/cli/inline-constants.ts): what is read becomes a
 * literal, what uses the whole object or writes to it keeps the module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inlineConstants } from '../src/cli/inline-constants.js';

const BOARD = { name: 'b1', pools: { mqtt: { conns: 1, recvBytes: 512 } }, pins: { analog: 'A0' }, hasTls: false };

test('inline: member chains of the default import become the values they read', () => {
  const code = "import board from 'ringnet:board';\nf(board.pools.mqtt, board.pins.analog, board.pools['mqtt'].conns, board.hasTls, x.board, { board: 1 });";
  const out = inlineConstants(code, 'ringnet:board', BOARD);
  assert.equal(out, 'import board from \'ringnet:board\';\nf(({"conns":1,"recvBytes":512}), ("A0"), (1), (false), x.board, { board: 1 });');
});

test('inline: a field the object lacks reads as undefined; settings fold the same way', () => {
  const out = inlineConstants("import settings from 'ringnet:settings';\nvar p = settings.http === undefined ? 80 : settings.http;", 'ringnet:settings', {});
  assert.equal(out, "import settings from 'ringnet:settings';\nvar p = (void 0) === undefined ? 80 : (void 0);");
});

test('inline: the whole object, a write, a call and another module are left as they are', () => {
  const code = "import board from 'ringnet:board';\ng(board);\nboard.name = 'x';\nboard.pins.analog = 'A1';\nboard.pools.mqtt.conns++;\nboard.pins.toString();";
  assert.equal(inlineConstants(code, 'ringnet:board', BOARD), code);
  const other = "import board from './my-board.js';\nf(board.name);";
  assert.equal(inlineConstants(other, 'ringnet:board', BOARD), other);
});
