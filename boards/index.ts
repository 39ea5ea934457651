/** Every board profile by name (the `--board` values). */
import esp32 from './esp32.js';
import esp8266 from './esp8266.js';
import host from './host.js';
import type { BoardProfile } from './profile.js';

export const boards: { [name: string]: BoardProfile } = { esp32: esp32, esp8266: esp8266, host: host };
export type { BoardProfile } from './profile.js';
