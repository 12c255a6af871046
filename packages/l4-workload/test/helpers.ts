import { fileURLToPath } from 'node:url';
import { loadLab, type Lab } from '@ahl/core';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The unit-test lab: two app hosts with a web and a db stack and an rsync target, and a host without workloads. */
export async function fixtureLab(): Promise<Lab> {
  const r = await loadLab(`${FIXTURES}lab`);
  if (!r.lab) throw new Error(JSON.stringify(r.errors, null, 2));
  return r.lab;
}
