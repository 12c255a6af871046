import type { Host, Lab } from '@ahl/core';
import { layer as instantiate } from '@ahl/l2-instantiate';
import { layer as system } from '@ahl/l3-system';
import { layer as workload } from '@ahl/l4-workload';

/*
 * What a host's layer was converged from, as one digest (each layer's `intentDigest`). Recorded
 * with each converge, it lets `ahl drift` tell "the intent changed since" from "somebody changed
 * the host". Each state this machine remembers of a host is one layer's.
 */

const BY_STATE = { system, workload, passthrough: instantiate } as const;

export type IntentState = keyof typeof BY_STATE;

/** The digest of what the layer of `state` converges onto the host: `converge system`, `converge workload`, `ahl passthrough`. */
export function intentOf(state: IntentState, lab: Lab, host: Host): Promise<string> {
  // These three layers each keep a per-host intent (their contract's intentDigest is set).
  return BY_STATE[state].intentDigest!(lab, host);
}
