/** The notifications service's configuration: only the variables every service reads. */
import { defineServiceConfig } from '@shoal/service';

export const configSpec = defineServiceConfig({ service: 'notifications', defaultPort: 3005 });
