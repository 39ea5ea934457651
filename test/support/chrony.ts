/** A real NTP server for tests: chronyd on a loopback port, serving its local clock, never touching the system clock. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeUdpPort } from './wait.js';

export interface Chrony {
  port: number;
  stop(): void;
}

/** Asks the server once; resolves true when it answers. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const req = new Uint8Array(48);
    req[0] = 0x23;
    req[47] = 1;
    const t = setTimeout(() => {
      s.close();
      resolve(false);
    }, 200);
    s.on('message', () => {
      clearTimeout(t);
      s.close();
      resolve(true);
    });
    s.send(req, port, '127.0.0.1');
  });
}

export async function startChrony(stratum: number): Promise<Chrony> {
  const dir = mkdtempSync(join(tmpdir(), 'ringnet-chrony-'));
  const port = await freeUdpPort();
  const conf = join(dir, 'chrony.conf');
  writeFileSync(
    conf,
    ['port ' + port, 'bindaddress 127.0.0.1', 'allow 127.0.0.1', 'local stratum ' + stratum, 'cmdport 0', 'pidfile ' + join(dir, 'pid'), 'driftfile ' + join(dir, 'drift'), ''].join('\n'),
  );
  const binary = existsSync('/usr/sbin/chronyd') ? '/usr/sbin/chronyd' : 'chronyd'; // sbin is not on every PATH
  const child: ChildProcess = spawn(binary, ['-x', '-d', '-f', conf], { stdio: 'ignore' });
  const stop = () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 50; i++) {
    if (await answers(port)) return { port, stop };
  }
  stop();
  throw new Error('chronyd did not answer on port ' + port + ' (is the chrony package installed?)');
}
