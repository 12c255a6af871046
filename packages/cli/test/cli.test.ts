import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, findCommand, VERSION } from '../src/index.js';
import { Output } from '../src/output.js';
import { ahl, exampleLabCopy, REPO } from './helpers.js';

const BIN = join(REPO, 'packages/cli/dist/bin.js');
const ESC = '\u001b[';

describe('argv → command', () => {
  it.each([
    [['validate'], 'validate', []],
    [['validate', 'extra'], 'validate', ['extra']],
    [['schema', 'persona'], 'schema', ['persona']],
    [['nope'], undefined, ['nope']],
    [[], undefined, []],
  ] as const)('%j → %s', (words, name, rest) => {
    const r = findCommand(COMMANDS, words);
    expect(r.cmd?.name).toBe(name);
    expect(r.rest).toEqual(rest);
  });

  it('every command has a summary and at least one example', () => {
    for (const c of COMMANDS) {
      expect(c.summary.length).toBeGreaterThan(10);
      expect(c.examples.length).toBeGreaterThan(0);
      for (const e of c.examples) expect(e.command.startsWith(`ahl ${c.name}`)).toBe(true);
    }
  });
});

describe('ahl --help and --version', () => {
  it('prints the version of the package', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'packages/cli/package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(await ahl(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('lists the commands, examples and exit codes', async () => {
    const r = await ahl(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}validate +check the lab files/m);
    expect(r.stdout).toMatch(/^ {2}image build +L1: build the template/m);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toMatch(/Exit codes:\n\s+0 {2}success\n\s+1 {2}the lab is invalid/);
  });

  it('shows validate help (snapshot)', async () => {
    const r = await ahl(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchInlineSnapshot(`
      "check the lab files against the model and each other (reads local files only)

      Usage: ahl validate

      Reads lab.yaml, images/*.yaml, personas/*.yaml and the stacks/ folders, and reports every problem at once as
      FILE:LINE:COL FIELD: MESSAGE. Nothing is contacted or changed.
      The original lab's environment variables fill what lab.yaml leaves out (lab.yaml wins where it sets a value):
      PVE_ACCESS_HOST (proxmox.endpoint), PM_TOKEN_ID, PM_TOKEN_SECRET (tokenSecret: env:PM_TOKEN_SECRET), PVE_NODE (nodes),
      PVE_STORAGE_VM, PVE_STORAGE_ISO, PVE_BRIDGE (defaults), L0_MIN_FREE_GIB_ISO, L0_MIN_FREE_PCT_VM (runway); each one
      used is named on a line of its own (in --json: envFallbacks).

      Global options:
            --json      print the result as JSON on stdout, and stderr as NDJSON events (AHL_LOG_FORMAT=text|json overrides)
            --dir PATH  the lab folder (default: the nearest folder upward holding lab.yaml)
            --no-color  no colour (NO_COLOR and FORCE_COLOR are honoured too)
        -h, --help      show help

      Examples:
        ahl validate
            validate the lab that holds the current directory
        ahl validate --dir ~/lab
            validate another lab
        ahl validate --json | jq -r '.errors[] | "\\(.file):\\(.line) \\(.message)"'
            machine-readable problems
      "
    `);
  });
});

describe('ahl validate', () => {
  it('accepts the example lab (exit 0, summary on stderr, nothing on stdout)', async () => {
    const r = await ahl(['validate']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '✓ lab "allans-home-lab" is valid: 5 personas, 8 hosts, 4 images, 2 stacks\n' });
  });

  it('finds the lab from a nested folder', async () => {
    const r = await ahl(['validate'], { cwd: join(REPO, 'stacks', 'whoami') });
    expect(r.code).toBe(0);
  });

  it('reports every problem with file:line:col and exits 1', async () => {
    const dir = exampleLabCopy();
    const persona = join(dir, 'personas/docker.yaml');
    writeFileSync(persona, readFileSync(persona, 'utf8').replace('cores: 4', 'cores: lots').replace('    gateway: 192.168.1.1\n    vmid: 302', '    gatway: 192.168.1.1\n    vmid: 302'));
    const r = await ahl(['validate', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        'personas/docker.yaml:5:10 resources.cores: expected a number, got a string',
        'personas/docker.yaml:54:5 hosts.docker-02.gatway: unknown key, did you mean "gateway"?',
        '✗ the lab is invalid: 2 errors in 1 file; nothing was contacted or changed',
        '',
      ].join('\n'),
    );
  });

  it('--json puts the machine result alone on stdout', async () => {
    const dir = exampleLabCopy();
    writeFileSync(join(dir, 'personas/extra.yaml'), 'template: ubuntu-noble@stable\nhosts:\n  docker-01: {node: pve1, ip: 192.168.1.99/24, gateway: 192.168.1.1}\n');
    const r = await ahl(['validate', '--json', '--dir', dir]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; errors: { file: string; line: number; col: number; field: string; message: string }[] };
    expect(doc.ok).toBe(false);
    expect(doc.errors).toEqual([
      { severity: 'error', file: 'personas/extra.yaml', line: 3, col: 3, field: 'hosts.docker-01', message: 'host "docker-01" is already declared at personas/docker.yaml:46:3' },
    ]);
  });

  it('--json turns stderr into NDJSON events, ending with done; AHL_LOG_FORMAT picks either way', async () => {
    const dir = exampleLabCopy();
    writeFileSync(join(dir, 'personas/extra.yaml'), 'template: ubuntu-noble@stable\nhosts:\n  docker-01: {node: pve1, ip: 192.168.1.99/24, gateway: 192.168.1.1}\n');
    const events = (text: string) => text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const r = await ahl(['validate', '--json', '--dir', dir], { tty: true, env: { FORCE_COLOR: '1' } });
    const stream = events(r.stderr);
    for (const e of stream) expect(e).toMatchObject({ ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), type: expect.stringMatching(/^(log|progress|error|done)$/), msg: expect.any(String) });
    expect(stream.some((e) => e.type === 'log' && String(e.msg).includes('personas/extra.yaml:3:3 hosts.docker-01'))).toBe(true);
    expect(stream.at(-1)).toMatchObject({ type: 'done', command: 'validate', exit: 1, durationMs: expect.any(Number) });
    expect(r.stderr).not.toContain(ESC);
    expect(events((await ahl(['validate', '--dir', dir], { env: { AHL_LOG_FORMAT: 'json' } })).stderr).at(-1)).toMatchObject({ type: 'done', exit: 1 });
    // A rendered report (a status table) is the result: left out of the stream with --json, which
    // puts the result on stdout, and kept in it without.
    for (const json of [true, false]) {
      let err = '';
      const o = new Output({ stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) } }, false, undefined, { format: 'events', json });
      o.report('HOST  VM\nweb-01  101');
      expect(err === '' ? [] : events(err).map((e) => [e.type, e.msg])).toEqual(json ? [] : [['log', 'HOST  VM\nweb-01  101']]);
    }
    const text = await ahl(['validate', '--json', '--dir', dir], { env: { AHL_LOG_FORMAT: 'text' } });
    expect(text.stderr).toContain('personas/extra.yaml:3:3 hosts.docker-01');
    expect(text.stderr).not.toContain('"type"');
    JSON.parse(text.stdout);
  });

  it('colours only when allowed: NO_COLOR wins over a TTY, FORCE_COLOR forces, CI does not', async () => {
    expect((await ahl(['validate'], { tty: true, env: { NO_COLOR: '1' } })).stderr).not.toContain(ESC);
    expect((await ahl(['validate', '--no-color'], { tty: true, env: { FORCE_COLOR: '1' } })).stderr).not.toContain(ESC);
    expect((await ahl(['validate'], { tty: false, env: {} })).stderr).not.toContain(ESC);
    expect((await ahl(['validate'], { tty: false, env: { FORCE_COLOR: '1' } })).stderr).toContain(ESC);
    expect((await ahl(['validate'], { tty: true, env: { CI: 'true' } })).stderr).not.toContain(ESC);
    expect((await ahl(['validate'], { tty: true, env: { CI: 'true', FORCE_COLOR: '1' } })).stderr).toContain(ESC);
  });

  it('fills what lab.yaml leaves out from the original lab\'s environment variables, one line each (also in --json)', async () => {
    const dir = exampleLabCopy();
    const lab = join(dir, 'lab.yaml');
    writeFileSync(lab, readFileSync(lab, 'utf8').replace('  endpoint: https://pve1.lab.example:8006\n', '').replace('  tokenSecret: env:PM_TOKEN_SECRET\n', '').replace('  bridge: vmbr0\n', ''));
    expect((await ahl(['validate', '--dir', dir])).stderr).toContain('lab.yaml:6:3 proxmox.endpoint: is required');
    const env = { PVE_ACCESS_HOST: 'pve1.lab.example', PM_TOKEN_SECRET: 'not-printed', PVE_BRIDGE: 'vmbr1', PM_TOKEN_ID: 'root@pam!ignored' };
    const r = await ahl(['validate', '--dir', dir], { env });
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: [
        'PVE_ACCESS_HOST from the environment filled proxmox.endpoint: https://pve1.lab.example:8006',
        'PM_TOKEN_SECRET from the environment filled proxmox.tokenSecret: env:PM_TOKEN_SECRET',
        'PVE_BRIDGE from the environment filled defaults.bridge: vmbr1',
        '✓ lab "allans-home-lab" is valid: 5 personas, 8 hosts, 4 images, 2 stacks',
        '',
      ].join('\n'),
    });
    const json = await ahl(['validate', '--json', '--dir', dir], { env });
    expect(JSON.parse(json.stdout).envFallbacks).toEqual([
      { variable: 'PVE_ACCESS_HOST', field: 'proxmox.endpoint', value: 'https://pve1.lab.example:8006' },
      { variable: 'PM_TOKEN_SECRET', field: 'proxmox.tokenSecret', value: 'env:PM_TOKEN_SECRET' },
      { variable: 'PVE_BRIDGE', field: 'defaults.bridge', value: 'vmbr1' },
    ]);
    expect(json.stdout + json.stderr).not.toContain('not-printed');
    expect(JSON.parse((await ahl(['validate', '--json'])).stdout).envFallbacks).toEqual([]);
  });

  it('says where it looked when there is no lab (exit 2)', async () => {
    const r = await ahl(['validate'], { cwd: '/' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LAB_NOT_FOUND: no lab.yaml in / or any parent directory');
    expect(r.stderr).toContain('fix: run ahl inside your lab repository, or pass --dir PATH');
  });
});

describe('usage errors exit 2 with a hint', () => {
  it.each([
    [['valdate'], 'USAGE: unknown command "valdate"; did you mean "validate"?'],
    [['validate', '--frob'], "USAGE: unknown option '--frob'"],
    [['validate', 'x'], 'USAGE: unexpected argument "x"'],
    [['schema', 'host'], 'USAGE: unknown schema "host"; expected one of lab, image, persona, local, status, drift, up, rebuild'],
  ])('%j', async (argv, message) => {
    const r = await ahl(argv);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(message);
    expect(r.stderr).toContain('fix: see `ahl');
  });

  it('--json reports the error as JSON too, and as one error event on stderr', async () => {
    const r = await ahl(['validate', '--json', '--frob']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', kind: 'usage' } });
    const stream = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(stream.map((e) => e.type)).toEqual(['error', 'done']);
    expect(stream[0]).toMatchObject({ code: 'USAGE', message: "unknown option '--frob'", msg: expect.stringContaining("USAGE: unknown option '--frob'\n  fix: see `ahl") });
    expect(stream[1]).toMatchObject({ command: 'validate', exit: 2 });
  });
});

describe('ahl schema', () => {
  it('prints one schema', async () => {
    const r = await ahl(['schema', 'persona']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ title: 'ahl persona', $id: 'https://ahl.dev/schemas/persona.schema.json' });
  });

  it('prints the schema of a --json output, the same as the file @ahl/ops publishes', async () => {
    const r = await ahl(['schema', 'drift']);
    expect(r.code).toBe(0);
    expect(`${r.stdout.trimEnd()}\n`).toBe(readFileSync(join(REPO, 'packages/ops/schemas/drift.output.schema.json'), 'utf8'));
    expect(JSON.parse(r.stdout)).toMatchObject({ $id: 'https://ahl.dev/schemas/drift.output.schema.json', required: ['at', 'layers', 'findings', 'clean'] });
  });

  it('--check passes on the repository and fails on stale files; --write refreshes them', async () => {
    expect((await ahl(['schema', '--check'])).code).toBe(0);
    const dir = exampleLabCopy();
    writeFileSync(join(dir, 'schemas/lab.schema.json'), '{}\n');
    const stale = await ahl(['schema', '--check', '--dir', dir]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('lab.schema.json is stale');
    const write = await ahl(['schema', '--write', '--dir', dir]);
    expect(write.code).toBe(0);
    expect((await ahl(['schema', '--check', '--dir', dir])).code).toBe(0);
  });
});

describe('the built binary', () => {
  it('runs, prints its version and sets the exit status', () => {
    expect(execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' }).trim()).toBe(VERSION);
    const bad = spawnSync(process.execPath, [BIN, 'validate'], { cwd: '/', encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('secrets never reach the output', () => {
  it('masks every value a command resolved, in human text, JSON and error messages', async () => {
    const leaky = {
      name: 'leak',
      summary: 'a test command that prints the secret it resolved',
      examples: [{ command: 'ahl leak', description: 'test' }],
      async run(ctx: Parameters<(typeof COMMANDS)[number]['run']>[0]) {
        const secrets = await ctx.secrets(REPO);
        const token = secrets.resolve('env:PM_TOKEN_SECRET');
        ctx.out.line(`token is ${token}`);
        ctx.out.json({ header: `PVEAPIToken=ahl@pve!ahl=${token}` });
        throw new Error(`request failed with ${token}`);
      },
    };
    let stdout = '';
    let stderr = '';
    const { main } = await import('../src/index.js');
    const code = await main({
      argv: ['leak'],
      env: { PM_TOKEN_SECRET: 'pve-token-0c5f3a' },
      cwd: REPO,
      commands: [...COMMANDS, leaky],
      streams: { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    });
    expect(code).toBe(2);
    expect(`${stdout}${stderr}`).not.toContain('pve-token-0c5f3a');
    expect(stderr).toContain('token is ********');
    expect(JSON.parse(stdout)).toEqual({ header: 'PVEAPIToken=ahl@pve!ahl=********' });
    expect(stderr).toContain('request failed with ********');
  });
});
