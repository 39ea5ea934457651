/** What an app gives `ringnet sim` so a fleet of it can run and be measured. */
import type { Manager } from '../core/manager.js';
import type { MqttOptions } from '../protocols/mqtt/client.js';

export interface FleetDeviceOptions {
  id: string;
  broker: string;
  /** Seeds the device's simulated sensors. */
  seed: number;
  /** Unix ms, shared by the whole fleet so delivery latency can be measured. */
  wallClock: () => number;
  periodMs: number;
  mqtt: MqttOptions;
}

export interface FleetDevice {
  /** Readings published so far (sequence numbers 1..n). */
  published(): number;
  /** Publishes not yet acknowledged by the broker. */
  queued(): number;
  dropped(): number;
  /** Connections re-established after the first. */
  reconnects(): number;
  online(): boolean;
  /** Stops taking readings; what is queued still goes out. */
  stopSampling(): void;
  stop(): void;
}

export interface FleetApp {
  name: string;
  /** The topic filter a monitor subscribes to, to see every device's readings. */
  subscribe: string;
  start(mgr: Manager, device: FleetDeviceOptions): FleetDevice;
  /** Which device and reading a message is, and when it was taken (Unix ms). */
  parse(topic: string, payload: string): { device: string; seq: number; t: number } | null;
}
