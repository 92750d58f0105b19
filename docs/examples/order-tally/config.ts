/**
 * The sample service's configuration, the only module of it that names environment variables: the six
 * every service reads, plus one setting of its own.
 */
// #region config
import { defineServiceConfig, integerSetting } from '@shoal/service';

export const configSpec = defineServiceConfig({
  service: 'order-tally',
  defaultPort: 3100,
  settings: {
    largeOrderAmount: integerSetting('ORDER_TALLY_LARGE_AMOUNT', {
      default: 100_000,
      min: 0,
      doc: 'an order whose total is at least this many minor units counts as large',
    }),
  },
});
// #endregion config
