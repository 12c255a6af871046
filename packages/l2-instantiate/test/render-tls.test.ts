import { fileURLToPath } from 'node:url';
import { loadLab, type Lab } from '@ahl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderTerraform } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PIN = 'AB:'.repeat(31) + 'AB';

describe('the rendered provider block and the lab\'s TLS policy', () => {
  let lab: Lab;
  beforeAll(async () => {
    const r = await loadLab(REPO);
    expect(r.errors).toEqual([]);
    lab = r.lab!;
  });

  const withTls = (tls: Lab['config']['proxmox']['tls']): Lab => ({ ...lab, config: { ...lab.config, proxmox: { ...lab.config.proxmox, tls } } });
  const providerOf = (l: Lab) => (JSON.parse(renderTerraform(l, {}).files['main.tf.json']!) as { provider: { proxmox: unknown } }).provider.proxmox;

  it.each([
    ['verify: true', { verify: true }, { insecure: false }],
    ['verify: true and a CA', { verify: true, ca: 'ca.pem' }, { insecure: false }],
    // Pinned: Terraform verifies the relay, which checks the pin on every connection.
    ['a pin', { verify: true, fingerprint: PIN }, { insecure: false }],
    ['verify: false and a pin', { verify: false, fingerprint: PIN }, { insecure: false }],
    // The only unverified case: the operator asked for it, and pinned nothing.
    ['verify: false, no pin', { verify: false }, { insecure: true }],
  ])('%s → %j', (_name, tls, want) => {
    expect(providerOf(withTls(tls))).toEqual(want);
  });
});
