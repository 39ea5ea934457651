/**
 * How to start an Espruino interpreter built for Linux (a 32-bit static
 * executable, ../shared/espruino): directly where the kernel runs 32-bit
 * programs, under qemu-i386 (Debian's qemu-user) where it does not (a kernel
 * booted with 32-bit emulation off). Either way the interpreter is the same
 * binary and counts variables the same; only its speed differs.
 */
import { spawnSync } from 'node:child_process';

export interface Launch {
  file: string;
  /** Put before the interpreter's own arguments. */
  prefix: string[];
}

const known: { [bin: string]: Launch | string } = {};

/** True when `file prefix... bin --help` prints the interpreter's usage. */
function answers(file: string, args: string[]): boolean {
  const r = spawnSync(file, args.concat('--help'), { input: '', timeout: 10000, killSignal: 'SIGKILL', encoding: 'latin1' });
  return !r.error && /Usage/.test(String(r.stdout) + String(r.stderr));
}

/** How to run `bin`, or why it cannot run on this machine. */
export function interpreterLaunch(bin: string): Launch | string {
  if (known[bin] === undefined) {
    if (answers(bin, [])) known[bin] = { file: bin, prefix: [] };
    else if (answers('qemu-i386', [bin])) known[bin] = { file: 'qemu-i386', prefix: [bin] };
    else known[bin] = bin + ' does not run here, neither directly (a kernel booted with 32-bit emulation off runs no 32-bit programs) nor under qemu-i386 (Debian\'s qemu-user: installed?)';
  }
  return known[bin];
}

/** A test's skip reason: false when the interpreter named by `variable` (`ESPRUINO_ESP8266`) runs here. */
export function interpreterSkip(variable: string, bin: string, why: string): false | string {
  if (!bin) return variable + why;
  const launch = interpreterLaunch(bin);
  return typeof launch === 'string' ? launch : false;
}
