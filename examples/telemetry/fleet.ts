/** The telemetry app as a fleet member for `ringnet sim`: many devices, simulated sensors, one process. */
import type { Manager } from '../../src/core/manager.js';
import { Telemetry } from './app.js';
import { simulatedSensors } from './sensors.js';
import type { FleetApp, FleetDevice, FleetDeviceOptions } from '../../src/cli/fleet-app.js';

export const fleetApp: FleetApp = {
  name: 'telemetry',
  subscribe: 'ringnet/+/telemetry',
  start(mgr: Manager, d: FleetDeviceOptions): FleetDevice {
    const app = new Telemetry(mgr, {
      deviceId: d.id,
      broker: d.broker,
      sensors: simulatedSensors(d.seed),
      wallClock: d.wallClock,
      periodMs: d.periodMs,
      mqtt: d.mqtt,
      discovery: false, // thousands of simulated devices must not appear in a Home Assistant that shares the broker
    });
    let sampling = true;
    return {
      published: () => app.seq,
      queued: () => {
        const s = app.client.stats();
        return s.queued + s.inFlight;
      },
      dropped: () => app.client.stats().dropped,
      reconnects: () => app.client.stats().reconnects,
      online: () => app.client.open,
      stopSampling() {
        if (!sampling) return;
        sampling = false;
        app.pause();
      },
      stop: () => app.stop(),
    };
  },
  parse(topic: string, payload: string) {
    try {
      const m = JSON.parse(payload);
      if (typeof m.id !== 'string' || typeof m.seq !== 'number' || typeof m.t !== 'number') return null;
      return { device: m.id, seq: m.seq, t: m.t };
    } catch {
      return null;
    }
  },
};
