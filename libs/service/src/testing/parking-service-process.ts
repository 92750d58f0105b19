/** The parking test service (parking-service.ts) as a process of its own: `node --import tsx parking-service-process.ts`, configured by the environment. */
import { runService } from '../run-service.js';
import { buildParkingService, parkingServiceSpec } from './parking-service.js';

await runService(parkingServiceSpec, buildParkingService);
