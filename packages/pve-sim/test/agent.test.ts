import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackend, type Guest, type RunningSim } from '../src/index.js';
import { NODE, SEED, testSim, tokenClient } from './helpers.js';

/** A backend whose guest agent answers only once the guest has "booted". */
class BootingBackend extends MemoryBackend {
  booted = false;
  async agentPing(_guest: Guest): Promise<void> {
    if (!this.booted) throw new Error('no answer on the agent socket');
  }
}

describe('guest agent ping', () => {
  let sim: RunningSim;
  const backend = new BootingBackend();

  beforeAll(async () => {
    sim = await testSim({ backend, seed: { ...SEED, guests: [...(SEED.guests ?? []), { vmid: 120, name: 'web', running: true, config: { agent: '1' } }] } });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('asks a backend of real guests, and says the agent is not running until it answers', async () => {
    const px = tokenClient(sim);
    await expect(px.nodes.$(NODE).qemu.$(120).agent.ping.$post()).rejects.toThrow(/QEMU guest agent is not running/);
    backend.booted = true;
    await expect(px.nodes.$(NODE).qemu.$(120).agent.ping.$post()).resolves.toBeDefined();
  });
});
