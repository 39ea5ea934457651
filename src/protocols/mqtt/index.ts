/** The MQTT 3.1.1 client: codec, outbox, store interface, session and client. */
export { mqttConnect, mqttEndpoint, MqttClient } from './client.js';
export type { MqttOptions, MqttStats, MqttHandler, MqttHandlerArgs } from './client.js';
export { MqttEv, DropReason } from './events.js';
export type { MqttEvents, MqttConnack, MqttPuback, MqttSuback, MqttUnsuback, MqttDropped, MqttClose } from './events.js';
export { decode, decodeFromServer, encode, validTopic, PacketType, MAX_REMAINING } from './codec.js';
export type { Packet, Decoded, DecodeError, Message, PublishPacket, ConnectPacket, ConnackPacket, AckPacket, SubscribePacket, SubackPacket, UnsubscribePacket, EmptyPacket, Will, QoS, Data } from './codec.js';
export { Outbox, Field } from './outbox.js';
export type { OutboxOptions, Journal } from './outbox.js';
export { MemoryStore, Entry, journal, outboxStore } from './store.js';
export type { OutboxStore } from './store.js';
export { utf8Decode, utf8Encode } from '../utf8.js';
