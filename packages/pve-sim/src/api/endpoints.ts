import { HANDLERS } from './router.js';

/** The `METHOD /path` operations pve-sim serves, sorted. */
export const IMPLEMENTED_ENDPOINTS: readonly string[] = Object.keys(HANDLERS).sort();
