import { EXIT_CODES, GLOBAL_OPTIONS, type CommandDef, type OptionDef } from './command.js';
import type { Output } from './output.js';

function optionLines(options: readonly OptionDef[]): string[] {
  const left = options.map((o) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  return options.map((o, i) => `  ${left[i]!.padEnd(width)}  ${o.description}`);
}

function section(out: Output, title: string): string {
  return out.style('bold', title);
}

export function commandHelp(cmd: CommandDef, out: Output): string {
  const pos = (cmd.positionals ?? []).map((p) => (p.optional ? `[${p.name}]` : p.name)).join(' ');
  const lines = [`${cmd.summary}`, '', `${section(out, 'Usage:')} ahl ${cmd.name}${pos ? ` ${pos}` : ''}${cmd.options?.length ? ' [options]' : ''}`];
  if (cmd.description) lines.push('', cmd.description);
  if (cmd.positionals?.length) {
    lines.push('', section(out, 'Arguments:'));
    const width = Math.max(...cmd.positionals.map((p) => p.name.length));
    for (const p of cmd.positionals) lines.push(`  ${p.name.padEnd(width)}  ${p.description}`);
  }
  if (cmd.options?.length) lines.push('', section(out, 'Options:'), ...optionLines(cmd.options));
  lines.push('', section(out, 'Global options:'), ...optionLines(GLOBAL_OPTIONS));
  lines.push('', section(out, 'Examples:'));
  for (const e of cmd.examples) lines.push(`  ${out.style('cyan', e.command)}`, `      ${e.description}`);
  return `${lines.join('\n')}\n`;
}

export function mainHelp(commands: readonly CommandDef[], version: string, out: Output): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = [
    `ahl ${version}: run a Proxmox VE home lab from declarative intent kept in Git`,
    '',
    `${section(out, 'Usage:')} ahl <command> [options]`,
    '',
    'Layers: L0 runway (checks) · L1 image (templates) · L2 instantiate (Terraform) · L3 system (Ansible) · L4 workload (Compose)',
    '',
    section(out, 'Commands:'),
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    section(out, 'Global options:'),
    ...optionLines([...GLOBAL_OPTIONS, { name: 'version', type: 'boolean', description: 'print the version' }]),
    '',
    section(out, 'Examples:'),
    `  ${out.style('cyan', 'ahl validate')}`,
    '      check every file of the lab in the current repository',
    `  ${out.style('cyan', 'ahl validate --json | jq .errors')}`,
    '      the same, for scripts',
    `  ${out.style('cyan', 'ahl schema --write')}`,
    '      refresh the JSON Schemas your editor uses',
    '',
    section(out, 'Exit codes:'),
    ...EXIT_CODES.map((e) => `  ${String(e.code).padStart(3)}  ${e.meaning}`),
    '',
    'Run `ahl <command> --help` for a command\'s options and examples.',
  ];
  return `${lines.join('\n')}\n`;
}
