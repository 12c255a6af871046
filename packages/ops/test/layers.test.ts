import { describe, expect, it } from 'vitest';
import { loadLab, type LayerContract } from '@ahl/core';
import { fileURLToPath } from 'node:url';
import { LAYERS, renderFacts, renderLab } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('the layer contract', () => {
  it('every layer package exports one, in order L0 to L4, and ops walks them', async () => {
    expect(LAYERS.map((l) => [l.id, l.name])).toEqual([['L0', 'runway'], ['L1', 'image'], ['L2', 'instantiate'], ['L3', 'system'], ['L4', 'workload']]);
    const { lab } = await loadLab(REPO);
    const facts = await renderFacts(lab!);
    const rendered = renderLab(lab!, facts);
    for (const l of LAYERS as readonly LayerContract[]) {
      const own = l.render(lab!, facts).files;
      // What `ahl render` shows under lN/ is exactly what the layer renders.
      const prefix = `${l.id.toLowerCase()}/`;
      expect(Object.fromEntries(Object.entries(rendered.files).filter(([p]) => p.startsWith(prefix)).map(([p, t]) => [p.slice(prefix.length), t]))).toEqual(own);
      for (const h of l.hosts(lab!)) expect(lab!.hosts).toContain(h);
    }
    // The layers that remember a per-host intent give a stable digest of it.
    for (const l of LAYERS.filter((x) => x.intentDigest) as readonly LayerContract[]) {
      const h = l.hosts(lab!)[0];
      if (!h) continue;
      expect(await l.intentDigest!(lab!, h)).toMatch(/^[0-9a-f]{64}$/);
      expect(await l.intentDigest!(lab!, h)).toBe(await l.intentDigest!(lab!, h));
    }
  });
});
