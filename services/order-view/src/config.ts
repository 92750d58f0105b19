/** order-view's configuration: only the variables every service reads. */
import { defineServiceConfig } from '@shoal/service';

export const configSpec = defineServiceConfig({ service: 'order-view', defaultPort: 3006 });
