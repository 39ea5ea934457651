/**
 * Espruino's Storage (the flash file system) as the HTTP layer's file store
 * (structurally a `FileStore` of src/protocols/http). Files saved with
 * `require("Storage").write(name, data)` are served as they are; a gzip copy
 * saved as `name.gz` is preferred by clients that accept it.
 *
 *   const files = new StorageFiles(require('Storage'));
 *   serveStatic(req, files, { prefix: '/' });
 */
import type { EspruinoE } from './espruino-globals.js';

/** The part of Espruino's `Storage` module used here. @runtime */
export interface EspruinoStorage {
  /** The file's contents as a string (memory-mapped from flash: no copy), or undefined when absent. */
  read(name: string, offset?: number, length?: number): string | undefined;
}

declare const E: EspruinoE | undefined; // undefined off the device: the files are then read as they are

/** Storage names are at most 28 characters. */
const MAX_NAME = 28;

export class StorageFiles {
  constructor(private readonly storage: EspruinoStorage) {}

  size(name: string): number {
    if (name.length === 0 || name.length > MAX_NAME) return -1;
    const s = this.storage.read(name);
    return s === undefined ? -1 : s.length;
  }

  read(name: string, offset: number, dst: Uint8Array, dstOff: number, len: number): number {
    const size = this.size(name);
    if (size < 0 || offset >= size) return 0;
    const n = len < size - offset ? len : size - offset;
    const s = this.storage.read(name, offset, n);
    if (s === undefined) return 0;
    if (typeof E !== 'undefined' && E && E.toUint8Array) {
      dst.set(E.toUint8Array(s), dstOff); // native copy on the device
    } else {
      for (let i = 0; i < s.length; i++) dst[dstOff + i] = s.charCodeAt(i);
    }
    return s.length;
  }
}
