/**
 * A device entry for tests: drives the Espruino driver's client paths and
 * prints what happened as `probe <what> [data]` lines. It exports `main` (the
 * build calls it with the board and settings) so that Node's test runner can
 * load this file without running it.
 *
 * Settings: peerPort (a test server that answers a line), refusedPort (where
 * nothing listens), udpPort (this probe echoes datagrams there).
 *  1. connect to refusedPort → CONNECT(REFUSED), CLOSE
 *  2. connect to peerPort, send a line, print the answer, end
 *  3. echo every datagram on udpPort
 *  4. on a link change print it; while the link is down, a connect must fail fast
 *  5. print 8 bytes from the driver's random source
 */
import type { BoardProfile } from '../../../boards/profile.js';
import type { Connection } from '../../../src/core/connection.js';
import { Ev } from '../../../src/core/events.js';
import { Manager } from '../../../src/core/manager.js';
import { EspruinoDriver } from '../../../src/drivers/espruino.js';
import { superviseWifi } from '../../../src/drivers/espruino-wifi.js';
import { espruinoDatagrams } from '../../../src/drivers/espruino-udp.js';

declare const console: { log(line: string): void };

function log(what: string, data?: string | number): void {
  console.log('probe ' + what + (data === undefined ? '' : ' ' + data));
}

export function main(board: BoardProfile, settings: { [key: string]: string | number | undefined }): void {
  const driver = new EspruinoDriver({ net: board.net, hasTls: board.hasTls, wifi: superviseWifi, wifiFile: board.wifiFile, datagrams: espruinoDatagrams(board.udp) });
  const mgr = new Manager(driver, { pools: board.pools, pollMs: board.pollMs });

  mgr.onLinkChange = function (up: boolean) {
    log('link', up ? 'up' : 'down');
    if (!up)
      mgr.connect('tcp://127.0.0.1:' + settings.peerPort, function (c: Connection, ev: number, data: any) {
        if (ev === Ev.CONNECT) log('connect-while-down', data);
      });
  };

  function talk(): void {
    mgr.connect('tcp://127.0.0.1:' + settings.peerPort, function (c: Connection, ev: number, data: any) {
      if (ev === Ev.CONNECT) {
        log('connected', data);
        c.send('hello from ' + board.name + '\n');
      } else if (ev === Ev.RECV) {
        const nl = c.recv.find(10);
        if (nl >= 0) {
          log('reply', c.recv.toBinaryString(0, nl));
          c.recv.discard(nl + 1);
          c.end();
        }
      } else if (ev === Ev.CLOSE) log('talk-closed');
    });
  }

  mgr.connect('tcp://127.0.0.1:' + settings.refusedPort, function (c: Connection, ev: number, data: any) {
    if (ev === Ev.CONNECT) log('refused', data);
    else if (ev === Ev.CLOSE) {
      log('refused-closed');
      talk();
    }
  });

  mgr.listen(
    'udp://0.0.0.0:' + settings.udpPort,
    function (c: Connection, ev: number) {
      if (ev === Ev.RECV) c.send(c.recv.contiguous()); // the ring holds exactly this datagram, from its start
    },
    { pool: 'udp' },
  );

  mgr.run();
  log('started', board.name);
  const noise = new Uint8Array(8);
  driver.randomBytes(noise);
  let hex = '';
  for (let i = 0; i < noise.length; i++) hex += (noise[i] < 16 ? '0' : '') + noise[i].toString(16);
  log('random', hex);
}
