import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ahlError } from '../errors.js';
import type { LabConfig } from '../model/schema.js';
import type { Secrets } from '../secrets.js';
import type { ProxmoxClient, ProxmoxConnection } from './client.js';
import { createProxmoxClient } from './create.js';

/** The client for a lab, its token resolved (and so masked) only now. */
export function connectLab(config: LabConfig, secrets: Secrets, labRoot: string, timeoutMs?: number): Promise<ProxmoxClient> {
  return createProxmoxClient(labConnection(config, secrets, labRoot, timeoutMs));
}

/**
 * A client logged in as root@pam with `proxmox.rootPassword`, for the few calls Proxmox allows root
 * alone; undefined when the lab names no root password.
 */
export function connectLabAsRoot(config: LabConfig, secrets: Secrets, labRoot: string, timeoutMs?: number): Promise<ProxmoxClient> | undefined {
  const ref = config.proxmox.rootPassword;
  if (!ref) return undefined;
  const password = secrets.resolve(ref, 'proxmox.rootPassword');
  return createProxmoxClient({ ...labConnection(config, secrets, labRoot, timeoutMs), login: { username: 'root@pam', password } });
}

/** The lab's API token id and secret, resolved (and so masked from then on). */
export function labToken(config: LabConfig, secrets: Secrets): { tokenId: string; tokenSecret: string } {
  const p = config.proxmox;
  return {
    tokenId: p.tokenId.startsWith('env:') ? secrets.resolve(p.tokenId, 'proxmox.tokenId') : p.tokenId,
    tokenSecret: secrets.resolve(p.tokenSecret, 'proxmox.tokenSecret'),
  };
}

function labConnection(config: LabConfig, secrets: Secrets, labRoot: string, timeoutMs?: number): ProxmoxConnection {
  const p = config.proxmox;
  const { tokenId, tokenSecret } = labToken(config, secrets);
  let ca: string | undefined;
  if (p.tls.ca) {
    const path = isAbsolute(p.tls.ca) ? p.tls.ca : resolve(labRoot, p.tls.ca);
    try {
      ca = readFileSync(path, 'utf8');
    } catch (e) {
      throw ahlError('FILE_UNREADABLE', { path, reason: (e as NodeJS.ErrnoException).code ?? String(e) });
    }
  }
  return {
    endpoint: p.endpoint,
    tokenId,
    tokenSecret,
    tls: { verify: p.tls.verify, ...(p.tls.fingerprint ? { fingerprint: p.tls.fingerprint } : {}), ...(ca ? { ca } : {}) },
    ...(timeoutMs ? { timeoutMs } : {}),
  };
}
