export { GroupCoordinator, type GroupCoordinatorOptions } from './group-coordinator.js';
export type { GroupState } from './group.js';
export { groupRoutes, type CoordinatorAddress } from './routes.js';
