/**
 * The shipping service's configuration: the variables every service reads, plus the optional automatic
 * dispatch (a warehouse that hands every scheduled parcel to the carrier after a fixed delay, so that a demo
 * or a load test runs the whole choreography without anyone calling the dispatch route).
 */
import { defineServiceConfig, integerSetting } from '@shoal/service';

export const configSpec = defineServiceConfig({
  service: 'shipping',
  defaultPort: 3004,
  settings: {
    autoDispatchMs: integerSetting('SHIPPING_AUTO_DISPATCH_MS', {
      default: 0,
      min: 0,
      max: 7 * 24 * 60 * 60 * 1000,
      doc: 'dispatch a scheduled shipment automatically after this many ms (0: only POST /shipments/:id/dispatch)',
    }),
  },
});
