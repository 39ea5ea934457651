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

/** The board's sensors, reading `analogPin` ('' for none). */
export function deviceSensors(analogPin: string): Sensors & { pin: string } {
  return { pin: analogPin, measure: measure };
}

// At module level, reading its pin from the object: a closure would keep deviceSensors' scope alive (13
// variables more on the ESP8266 interpreter).
function measure(this: { pin: string }): Reading {
  const temp = E.getTemperature();
  return {
    temp: Math.round(temp * 100) / 100,
    analog: this.pin ? Math.round(analogRead(this.pin) * 1000) / 1000 : 0,
    freeMem: process.memory(false).free,
  };
}
