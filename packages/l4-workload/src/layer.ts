import { RUN_DIR_PLACEHOLDER, sha256, type LayerContract } from '@ahl/core';
import { workloadIntent } from './digest.js';
import { renderWorkloadInventory } from './inventory.js';
import { deployWorkloads, type DeployOptions, type DeployResult } from './runner.js';
import { selectWorkloadHosts, workloadHosts } from './targets.js';

/**
 * L4 as the layer contract: the Compose stacks and backups of every host with workloads, through
 * Ansible. It renders the inventory (the stacks' env is left out: it holds secrets and is written
 * only on the host) and each stack's files as they are copied (`*.j2` are rendered per host).
 */
export const layer: LayerContract<DeployOptions, DeployResult> = {
  id: 'L4',
  name: 'workload',
  engine: 'Ansible + Docker Compose',
  hosts: workloadHosts,
  render(lab, facts) {
    const files: Record<string, string> = {};
    const stackFiles = Object.fromEntries(Object.entries(facts.stackFiles).map(([s, fs]) => [s, Object.fromEntries(Object.entries(fs).map(([n, text]) => [n, sha256(text)]))]));
    Object.assign(files, renderWorkloadInventory(lab, { hosts: selectWorkloadHosts(lab), stackFiles, reportDir: RUN_DIR_PLACEHOLDER }));
    for (const [s, fs] of Object.entries(facts.stackFiles)) for (const [name, text] of Object.entries(fs)) files[`stacks/${s}/${name}`] = text;
    return { files };
  },
  intentDigest: workloadIntent,
  run: deployWorkloads,
};
