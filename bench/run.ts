/**
 * `npm run bench`: runs every compiled `bench/*.bench.js` in its own process, one
 * after another (so they never compete for the 2 cores), and prints their reports.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.indexOf(o) >= 0))
  .sort();
let failed = 0;
for (const f of files) {
  console.log('\n## ' + f.replace('.bench.js', ''));
  const r = spawnSync(process.execPath, [join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
