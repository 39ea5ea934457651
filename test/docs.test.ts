/**
 * The API reference builds from the doc comments without a warning (typedoc.json
 * treats warnings as errors: a public signature naming an unexported type, a
 * broken {@link}, a bad tag).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('typedoc builds the API reference of every export without warnings', { timeout: 300000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'ringnet-api-'));
  try {
    let log: string;
    try {
      log = execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string };
      assert.fail('typedoc failed:\n' + (x.stdout || '') + (x.stderr || ''));
    }
    assert.doesNotMatch(log, /warning|error/i);
    for (const page of ['index.html', 'modules/src.html', 'modules/src_drivers_espruino.html', 'modules/src_protocols_mqtt.html', 'enums/src.Ev.html']) {
      assert.ok(existsSync(join(out, page)), page + ' is in the reference');
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
