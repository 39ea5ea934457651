// examples/readme/sntp.ts
import { Manager } from 'ringnet';
import { NodeDriver } from 'ringnet/drivers/node';
import { SntpClock, SntpEv, sntpSync } from 'ringnet/protocols/sntp';

const mgr = new Manager(new NodeDriver());
const clock = new SntpClock(mgr); // clock.now(): Unix ms (-1 until the first reply), running on the manager's clock
sntpSync(mgr, process.env.NTP || 'pool.ntp.org', clock, (c, ev, data) => {
  if (ev === SntpEv.TIME) console.log('time set:', new Date(clock.now()).toISOString(), 'delay', data.delayMs, 'ms');
  if (ev === SntpEv.FAILED) console.log('no time:', data);
  if (ev === SntpEv.TIME || ev === SntpEv.FAILED) mgr.shutdown();
}, { timeoutMs: 2000, tries: 3 });
mgr.run();
