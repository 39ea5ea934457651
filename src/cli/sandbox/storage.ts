/** The sandbox's `require("Storage")`: named files in flash, held as strings (the initial ones from `SandboxOptions.storage`). */
import type { EspruinoSandbox } from '../sandbox.js';

/** read, readJSON (parsed in the device's realm) and write over `sb.storage`. */
export function storageModule(sb: EspruinoSandbox): object {
  return {
    read: (f: string) => sb.storage[f],
    readJSON: (f: string, noExceptions?: boolean) => {
      if (sb.storage[f] === undefined) return undefined;
      try {
        return sb.realm.JSON.parse(sb.storage[f]);
      } catch (e) {
        if (noExceptions) return undefined;
        throw e;
      }
    },
    write: (f: string, data: string) => {
      sb.storage[f] = data;
      return true;
    },
  };
}
