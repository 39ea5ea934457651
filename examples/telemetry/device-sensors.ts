/**
 * The telemetry sensors on an Espruino board: the chip's own temperature, an
 * analog pin from the board profile, and free JsVars. Only the device entry
 * imports this file (it reads Espruino globals).
 */
import type { Reading, Sensors } from './sensors.js';
import type { EspruinoE, EspruinoProcess } from '../../src/drivers/espruino-globals.js';

declare const E: EspruinoE;
declare function analogRead(pin: any): number;
declare const process: EspruinoProcess;

export function deviceSensors(analogPin: string): Sensors {
  return {
    measure: function (): Reading {
      const temp = E.getTemperature();
      return {
        temp: Math.round(temp * 100) / 100,
        analog: analogPin ? Math.round(analogRead(analogPin) * 1000) / 1000 : 0,
        freeMem: process.memory(false).free,
      };
    },
  };
}
