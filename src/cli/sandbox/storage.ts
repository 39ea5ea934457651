/** The sandbox's `require("Storage")`: named files in flash, held as strings (the initial ones from `SandboxOptions.storage`). */

/** What Storage uses of the sandbox (EspruinoSandbox in ../sandbox.ts). */
export interface StorageHost {
  readonly realm: { JSON: JSON };
  readonly storage: { [name: string]: string };
}

/** read, readJSON (parsed in the device's realm) and write over `sb.storage`. */
export function storageModule(sb: StorageHost): object {
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
