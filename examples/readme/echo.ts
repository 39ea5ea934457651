// examples/readme/echo.ts
import { Manager, Ev } from 'ringnet';
import { NodeDriver } from 'ringnet/drivers/node';

const port = Number(process.env.PORT || 8000);
const mgr = new Manager(new NodeDriver(), { pools: { default: { conns: 8, recvBytes: 2048, sendBytes: 2048 } } });
mgr.listen('tcp://0.0.0.0:' + port, (c, ev) => {
  // On RECV, and on SEND once the socket took bytes: move what fits into the send ring. The rest stays in c.recv
  // for the next SEND; while c.recv is full the socket is not read, so the sender is held back.
  if (ev !== Ev.RECV && ev !== Ev.SEND) return;
  while (c.recv.length > 0) {
    const n = Math.min(c.recv.contiguousLength(), c.unsent.free);
    if (n === 0 || !c.send(c.recv.bytes.subarray(c.recv.start, c.recv.start + n))) break;
    c.recv.discard(n);
  }
});
mgr.run(); // or call mgr.poll() from your own loop
console.log('echo on port ' + port);
