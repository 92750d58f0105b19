export { startBroker, brokerDefaults } from './broker.js';
export type { BrokerOptions, RunningBroker } from './broker.js';
