/**
 * The telemetry app's sensors behind one small interface, so the same app
 * reads a real ESP32 on the device and plausible fakes on the host and in
 * the simulator.
 */

export interface Reading {
  /** Degrees Celsius. */
  temp: number;
  /** The analog pin, 0..1 of full scale. */
  analog: number;
  /** Free memory: JsVars on Espruino, KiB of heap on the host. */
  freeMem: number;
}

export interface Sensors {
  /**
   * One reading of every sensor. (Not `read`: the device build keeps every method a name is called by, and
   * `sensors.read()` kept Ring's `read` in the telemetry bundle: a function object more in RAM.)
   */
  measure(): Reading;
}

/**
 * Simulated sensors: temperature drifts slowly (a random walk pulled back
 * towards 22 °C) with a little noise; the analog pin follows a slow wave;
 * free memory wanders around a base. Seeded, so a simulation replays. One
 * closure per sensor set: the random numbers (Mulberry32 again, local so this
 * file stays dependency-free) are drawn inline, in the order they are used.
 */
export function simulatedSensors(seed: number, freeMem?: () => number): Sensors {
  let a = seed >>> 0;
  let drift = 0;
  let step = 0;
  return {
    measure: function (): Reading {
      const rnd = [0, 0, 0, 0];
      const draws = freeMem ? 3 : 4;
      for (let k = 0; k < draws; k++) {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = ((t ^ (t >>> 15)) >>> 0) * ((t | 1) >>> 0);
        t = (t ^ (t + ((t ^ (t >>> 7)) >>> 0) * ((t | 61) >>> 0))) >>> 0;
        rnd[k] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      }
      step++;
      drift += (rnd[0] - 0.5) * 0.2 - drift * 0.01;
      const temp = 22 + drift * 5 + (rnd[1] - 0.5) * 0.3;
      const analog = 0.5 + 0.4 * Math.sin(step / 30) + (rnd[2] - 0.5) * 0.02;
      return {
        temp: Math.round(temp * 100) / 100,
        analog: Math.round(Math.min(1, Math.max(0, analog)) * 1000) / 1000,
        freeMem: freeMem ? freeMem() : 9000 + Math.round(rnd[3] * 200),
      };
    },
  };
}
