import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { CommandDef } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';

export const runwayCommand: CommandDef = {
  name: 'runway',
  summary: 'L0: read-only checks that Proxmox is ready for the lab (API, TLS, token, privileges, nodes, bridges, storage, templates)',
  description:
    'Checks the endpoint and its certificate, the token and its privileges for every layer, each node, bridge and storage the\n' +
    'lab uses (content types, free space against lab.yaml runway thresholds), the promoted templates against their manifests,\n' +
    'and conflicts with guests ahl does not manage. Changes nothing. Writes the report to artifacts/runway.json.\n' +
    'Exit status: 0 nothing failed (warnings never fail), 1 a check failed, 2 the checks could not run.',
  options: [{ name: 'artifact', type: 'string', value: 'PATH', description: 'where to write the JSON report (default: artifacts/runway.json in the lab)' }],
  examples: [
    { command: 'ahl runway', description: 'check the runway before ahl up' },
    { command: 'ahl runway --json | jq \'.checks[] | select(.status != "PASS")\'', description: 'only what needs attention' },
  ],
  async run(ctx) {
    const { isAhlError, connectLab } = await import('@ahl/core');
    const { runRunway, renderRunway, runwayArtifact } = await import('@ahl/l0-runway');
    let lab;
    try {
      lab = await loadValidLab(ctx);
    } catch (e) {
      if (isAhlError(e) && e.code === 'LAB_INVALID') {
        ctx.out.line(`${ctx.out.style('red', '✗')} the runway was not checked: the lab is invalid (run \`ahl validate\`)`);
        return 2;
      }
      throw e;
    }
    const secrets = await ctx.secrets(lab.root);
    const client = await connectLab(lab.config, secrets, lab.root);
    try {
      const report = await runRunway(lab, client);
      ctx.out.report(renderRunway(report, (s, t) => ctx.out.style(s, t)).trimEnd());
      const artifact = typeof ctx.options.artifact === 'string' ? (isAbsolute(ctx.options.artifact) ? ctx.options.artifact : join(ctx.cwd, ctx.options.artifact)) : join(lab.root, 'artifacts', 'runway.json');
      await mkdir(dirname(artifact), { recursive: true });
      await writeFile(artifact, secrets.redactor.redact(runwayArtifact(report)));
      ctx.out.line(ctx.out.style('dim', `report: ${relative(ctx.cwd, artifact) || artifact} (${report.calls} API calls)`));
      if (ctx.global.json) ctx.out.json(JSON.parse(runwayArtifact(report)));
      return report.status === 'FAIL' ? 1 : 0;
    } finally {
      await client.close();
    }
  },
};
