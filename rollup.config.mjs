// The device build: every examples/<app>/device.ts for every board → dist/<board>/<app>.js.
// `npm run build` uses `ringnet build` (the same targets; it goes on past a bundle that does not fit its board
// and names every refusal at the end); `npx rollup -c` after `npm run compile` runs this file and stops at the first.
// Narrow it with rollup's custom options: rollup -c --configBoard esp8266 --configApp echo --configSet port=8001
// (the same as `npx ringnet build --board esp8266 --app echo --set port=8001`).
import { deviceTargets, rollupOptions } from './build/src/cli/bundle.js';
import { list, settings } from './build/src/cli/options.js';

export default function config(args) {
  const options = {
    boards: list(args.configBoard),
    apps: list(args.configApp),
    settings: settings(args.configSet),
  };
  delete args.configBoard;
  delete args.configApp;
  delete args.configSet;
  return deviceTargets(options).map((target) => rollupOptions(target));
}
