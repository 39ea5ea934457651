#!/usr/bin/env node
// The `ringnet` command: verbs live in build/src/cli (compiled by `npm run compile`).
import('../build/src/cli/main.js').catch(function (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('ringnet: run `npm run compile` first (' + e.message + ')');
  } else {
    console.error(e);
  }
  process.exit(1);
});
