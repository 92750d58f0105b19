export { startBroker, brokerDefaults } from './broker.js';
export type { BrokerOptions, RunningBroker } from './broker.js';
export { parseRequestCounts } from './metrics/request-counts.js';
export type { RequestCount } from './metrics/request-counts.js';
