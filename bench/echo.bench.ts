/**
 * TCP echo throughput on loopback: the ringnet echo example against a raw
 * node:net echo server (socket.pipe), same client, same run. Each server runs
 * in its own process; the client streams through 4 connections at once and
 * counts the bytes that come back. Rounds alternate between the two servers
 * and the median is reported, so load from elsewhere hits both alike.
 * RING=bytes sets the ringnet server's ring size (default 64 KiB, a host size).
 */
import { fork } from 'node:child_process';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CONNS = 4;
const PER_CONN = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;

function startServer(kind: string): Promise<{ port: number; stop(): void }> {
  return new Promise((resolve) => {
    const child = fork(join(here, 'support', 'echo-server.js'), [kind], { stdio: 'inherit' });
    child.once('message', (port) => resolve({ port: port as number, stop: () => child.kill() }));
  });
}

function stream(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.alloc(CHUNK, 0x5a);
    let back = 0;
    let sent = 0;
    const s = net.connect(port, '127.0.0.1', () => {
      const pump = () => {
        while (sent < PER_CONN) {
          sent += CHUNK;
          if (!s.write(payload)) return;
        }
      };
      s.on('drain', pump);
      pump();
    });
    s.on('data', (d) => {
      back += d.length;
      if (back >= PER_CONN) {
        s.destroy();
        resolve(back);
      }
    });
    s.on('error', reject);
  });
}

async function measure(kind: string): Promise<number> {
  const server = await startServer(kind);
  try {
    await Promise.all([stream(server.port)]); // warm-up on one connection
    const t0 = process.hrtime.bigint();
    const parts: Promise<number>[] = [];
    for (let i = 0; i < CONNS; i++) parts.push(stream(server.port));
    const bytes = (await Promise.all(parts)).reduce((a, b) => a + b, 0);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return bytes / seconds / 1e6;
  } finally {
    server.stop();
  }
}

const rounds = 5;
const raw: number[] = [];
const ours: number[] = [];
for (let r = 0; r < rounds; r++) {
  raw.push(await measure('raw'));
  ours.push(await measure('ringnet'));
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const mr = median(raw);
const mo = median(ours);
console.log('tcp echo, ' + CONNS + ' connections × ' + PER_CONN / 1048576 + ' MiB, median of ' + rounds + ' rounds');
console.log('  node:net pipe   ' + mr.toFixed(0).padStart(6) + ' MB/s');
console.log('  ringnet echo    ' + mo.toFixed(0).padStart(6) + ' MB/s  (' + Number(process.env.RING || 65536) / 1024 + ' KiB rings)');
console.log('  ratio           ' + (mo / mr).toFixed(2) + '×');
