/**
 * The orders service's configuration: only the variables every Shoal service reads (docs/services.md); it has
 * no settings of its own. This module is the only one that names the service and its default port.
 */
import { defineServiceConfig } from '@shoal/service';

export const configSpec = defineServiceConfig({ service: 'orders', defaultPort: 3001 });
