// examples/readme/mqtt.ts
import { Manager } from 'ringnet';
import { NodeDriver } from 'ringnet/drivers/node';
import { mqttConnect, MqttEv, utf8Decode } from 'ringnet/protocols/mqtt';

const mgr = new Manager(new NodeDriver());
const m = mqttConnect(mgr, process.env.BROKER || 'mqtt://127.0.0.1:1883', (m, ev, data) => {
  if (ev === MqttEv.MESSAGE) console.log(data.topic, utf8Decode(data.payload), data.qos);
  if (ev === MqttEv.DROPPED) console.log('dropped', data.topic, data.reason);
}, { clientId: 'dev-1', clean: false });
m.subscribe('cmd/#', 1); // kept, and renewed whenever the broker lost the session
m.publish('sensors/temp', '21.5', 1); // bytes or a string (sent as UTF-8); returns the packet id, or -1
mgr.run();
