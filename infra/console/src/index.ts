/**
 * @shoal/console: the console (docs/console.md). Its server composed on the service host (`buildConsole`,
 * run by main.ts), and what it is made of, which `shoal trace` and `shoal groups` use too: the reader of every
 * topic into a bounded in-memory index of events, the causation tree of one flow, the map of reactions, drift
 * against the catalog and the services' declared subscriptions, and consumer groups with their lag.
 */
export { buildConsole, configSpec } from './app.js';
export type { ConsoleParts } from './app.js';
export type { ConsoleConfig } from './config.js';
export { CONSOLE_DEFAULT_PORT } from './config.js';
export { EventIndex, eventIndexDefaults, serviceOfSource } from './event-index.js';
export type { SeenEvent, EventIndexOptions } from './event-index.js';
export { TrafficReader, trafficReaderDefaults, isTrafficTopic } from './traffic-reader.js';
export type { TrafficReaderOptions, TrafficReaderStatus } from './traffic-reader.js';
export { findFlow, buildFlow, flowLines, flowNodeJson } from './flow-tree.js';
export type { Flow, FlowNode, FlowLine, FlowMatch, FlowEventJson } from './flow-tree.js';
export { ReactionMap } from './reaction-map.js';
export type { ReactionMapSnapshot, MapEdge, EmittedType } from './reaction-map.js';
export { findDrift } from './drift.js';
export type { DriftFinding, DriftKind, DriftInputs, ServiceSubscriptions } from './drift.js';
export { consumerGroups } from './consumer-groups.js';
export type { GroupReport, GroupMember, GroupPartition } from './consumer-groups.js';
export { decodeEventData, jsonSafe } from './event-data.js';
export type { DecodedData } from './event-data.js';
export { parseServiceList, ServiceDirectory } from './service-directory.js';
export type { ConsoleService, ServiceAnswer } from './service-directory.js';
