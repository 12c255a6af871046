import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadLab } from '../src/index.js';
import { checkStackTemplate } from '../src/load/jinja.js';
import { FIXTURES } from './corpus.js';

describe('stack templates: the Jinja ahl renders', () => {
  it.each([
    '{{ stack_env.GREETING }} from {{ inventory_hostname }}\n',
    '{% for k, v in stack_env.items() | sort %}{{ k }}={{ v | quote }}\n{% endfor %}',
    '{% if stack_env.PORT is defined and stack_env.PORT | int > 1024 %}high{% else %}low{% endif %}',
    '{% set name = stack_env.NAME | default("web") | upper %}{{ name ~ "-" ~ loop_index | default(1) }}',
    '{# a comment with lookup(\'pipe\') in it #}plain',
    '{% raw %}{{ lookup("pipe", "id") }}{% endraw %}',
    '{{ [1, 2, 3] | map("string") | join(",") }} {{ range(3) | list }} {{ {"a": 1} | to_json }}',
    'no tags at all: ${HOME} %{x}',
  ])('renders %j', (t) => expect(checkStackTemplate(t)).toEqual([]));

  it.each([
    ["{{ lookup('pipe', 'id') }}", 1, 4, /"lookup" reaches outside/],
    ["x\n  {{ query('file', '/etc/shadow') }}", 2, 6, /"query" reaches outside/],
    ["{{ q('env', 'HOME') }}", 1, 4, /"q" reaches outside/],
    ['{{ hostvars["other"].ansible_ssh_pass }}', 1, 4, /"hostvars"/],
    ["{{ ''.__class__.__mro__[1].__subclasses__() }}", 1, 7, /names starting with "_"/],
    ["{{ stack_env['__class__'] }}", 1, 14, /"__"/],
    ["{{ stack_env | attr('__init__') }}", 1, 21, /"__"/],
    ['{% include "/etc/passwd" %}', 1, 1, /\{% include %\} is not allowed/],
    ['{% import "x" as y %}', 1, 1, /\{% import %\}/],
    ['{% macro m() %}{% endmacro %}', 1, 1, /\{% macro %\}/],
    ['{{ stack_env | pipe }}', 1, 16, /the filter "pipe"/],
    ['{{ "x".format(1) }}', 1, 8, /the method "format\(\)"/],
    ['{{ cycler(1).__init__ }}', 1, 4, /"cycler"/],
    ['{{ open("/etc/passwd") }}', 1, 4, /calling "open\(\)"/],
    ['{% for x in lookup("fileglob", "/*") %}{% endfor %}', 1, 13, /"lookup"/],
    ['{{ x ; y }}', 1, 6, /";" is not part/],
  ])('refuses %j', (t, line, col, message) => {
    const problems = checkStackTemplate(t as string);
    expect(problems[0]).toMatchObject({ line, col });
    expect(problems[0]!.message).toMatch(message as RegExp);
  });
});

describe('ahl validate reads every stack template', () => {
  it('refuses a lookup in stacks/NAME/*.j2 at its line, and accepts a plain template', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-j2-'));
    cpSync(join(FIXTURES, 'base'), dir, { recursive: true });
    writeFileSync(join(dir, 'stacks/app/ok.conf.j2'), '{{ stack_env.A | default("x") }}\n');
    writeFileSync(join(dir, 'stacks/app/index.html.j2'), "<p>\n{{ lookup('pipe', 'id') }}</p>\n");
    const r = await loadLab(dir, { cache: false });
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'stacks/app/index.html.j2:2:4 "lookup" reaches outside the template\'s data (the controller or other hosts); not allowed in a stack template',
    ]);
  });
});
