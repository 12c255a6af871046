#!/usr/bin/env node
import { main } from './main.js';

// The first Ctrl-C asks the command to stop at its next safe point (between hosts, between steps)
// and release the lab's lock; a second one stops at once, as Terraform does.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
  process.stderr.write('\ninterrupt received: stopping at the next safe point (Ctrl-C again to stop at once)\n');
});

const code = await main({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), streams: { stdout: process.stdout, stderr: process.stderr }, signal: interrupt.signal });
process.exitCode = code;
