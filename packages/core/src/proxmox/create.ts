import type { ProxmoxClient, ProxmoxConnection } from './client.js';

/**
 * Makes a client. The transport (undici, proxmox-api) is loaded only now, so commands that never
 * talk to Proxmox (validate, schema, --help) do not pay for it at start-up.
 */
export async function createProxmoxClient(connection: ProxmoxConnection): Promise<ProxmoxClient> {
  const { ProxmoxClient } = await import('./client.js');
  return new ProxmoxClient(connection);
}
