/**
 * A folder on disk as the HTTP layer's file store (structurally a `FileStore`
 * of src/protocols/http, so drivers need not import a protocol). Names are
 * resolved inside the folder; anything that would leave it does not exist.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';

export class FolderFiles {
  private readonly root: string;
  /** The last file read stays open: a response reads one file in many steps. */
  private openName = '';
  private fd = -1;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(name: string): string | null {
    if (name.indexOf('\0') >= 0) return null;
    const p = resolve(this.root, name);
    return p.startsWith(this.root + sep) ? p : null;
  }

  size(name: string): number {
    const p = this.pathOf(name);
    if (!p) return -1;
    try {
      const st = statSync(p);
      return st.isFile() ? st.size : -1;
    } catch {
      return -1;
    }
  }

  read(name: string, offset: number, dst: Uint8Array, dstOff: number, len: number): number {
    if (name !== this.openName) {
      this.close();
      const p = this.pathOf(name);
      if (!p) return 0;
      try {
        this.fd = openSync(p, 'r');
      } catch {
        return 0;
      }
      this.openName = name;
    }
    try {
      return readSync(this.fd, dst, dstOff, len, offset);
    } catch {
      this.close();
      return 0;
    }
  }

  /** Closes the file kept open between reads. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.openName = '';
  }
}
