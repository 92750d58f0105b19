/**
 * The inventory service's configuration: the variables every Shoal service reads (docs/services.md) and no
 * setting of its own. The only module of the service that names its environment.
 */
import { defineServiceConfig } from '@shoal/service';

export const configSpec = defineServiceConfig({ service: 'inventory', defaultPort: 3002 });
