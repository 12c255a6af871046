#!/usr/bin/env node
// bench/plan: `terraform plan -refresh=true` with the real bpg/proxmox provider against pve-sim, for labs
// of 10, 50 and 200 VMs that already exist and match the Terraform state (applied once beforehand with
// -parallelism=10). Measures wall time (median of BENCH_RUNS, default 3, after one warm-up run) and the
// Proxmox API calls one plan makes, from the sim's own accounting: the total and the top 5 endpoints.
// The counterpart of bench/status (`ahl status`: 1 call whatever the size).
// Needs terraform on PATH and the provider in the filesystem mirror (~/.cache/ahl/terraform/mirror,
// or BENCH_TF_MIRROR); without them it says why and exits 0 without results.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_PLAN_SIZES ?? '10,50,200').split(',').map(Number);
const PROVIDER_VERSION = '0.80.0';
const MIRROR = process.env.BENCH_TF_MIRROR ?? join(homedir(), '.cache/ahl/terraform/mirror');
const PROVIDER = join(MIRROR, `registry.terraform.io/bpg/proxmox/${PROVIDER_VERSION}/linux_amd64/terraform-provider-proxmox_v${PROVIDER_VERSION}`);
const NODES = ['pve1', 'pve2', 'pve3'];
const TOKEN = { id: 'ahl@pve!bench', secret: '0c0c0c0c-1111-4222-8333-444444444444' };
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR bench@ahl';

function skip(why) {
  process.stdout.write(`\nplan: skipped — ${why}\n`);
  process.exit(0);
}

const tfVersion = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8' });
if (tfVersion.error || tfVersion.status !== 0) skip('terraform is not on PATH');
if (!existsSync(PROVIDER)) skip(`the bpg/proxmox ${PROVIDER_VERSION} provider is not in the filesystem mirror (${PROVIDER})`);
if (!existsSync(join(ROOT, 'packages/pve-sim/dist/index.js'))) skip('pve-sim is not built (pnpm --filter @ahl/pve-sim build)');
const TERRAFORM = JSON.parse(tfVersion.stdout).terraform_version;
const { startSim } = await import(join(ROOT, 'packages/pve-sim/dist/index.js'));

/** Three nodes, each with a template (9000 + k) on its local-lvm to link-clone from. */
function seed() {
  return {
    pveVersion: '9.1.1',
    clusterName: 'bench',
    seed: 11,
    nodes: NODES.map((name, i) => ({ name, ip: `10.0.0.${11 + i}`, cpus: 64, memoryGiB: 1024, bridges: [{ iface: 'vmbr0', cidr: `10.0.0.${11 + i}/24`, gateway: '10.0.0.1', ports: 'eno1', vlanAware: true }] })),
    storages: [
      { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'vztmpl', 'import', 'backup', 'snippets'], size: 1000 },
      { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], size: '20T' },
    ],
    users: [{ id: 'ahl@pve', tokens: [{ id: 'bench', secret: TOKEN.secret, privsep: false }] }],
    acl: [{ path: '/', roles: ['PVEAdmin'], users: ['ahl@pve'] }],
    guests: NODES.map((node, k) => ({
      vmid: 9000 + k,
      node,
      name: `tpl-noble-${node}`,
      template: true,
      config: {
        memory: '2048',
        cores: 2,
        sockets: 1,
        scsihw: 'virtio-scsi-single',
        scsi0: `local-lvm:base-${9000 + k}-disk-0,iothread=1,size=4G`,
        ide2: `local-lvm:vm-${9000 + k}-cloudinit,media=cdrom`,
        net0: `virtio=BC:24:11:00:90:0${k},bridge=vmbr0`,
        agent: '1',
        boot: 'order=scsi0',
        serial0: 'socket',
        vga: 'serial0',
      },
    })),
  };
}

/** The Terraform configuration of an ahl-like lab of n VMs: linked clones, running, with cloud-init and the agent. */
function config(n) {
  const vms = {};
  for (let i = 0; i < n; i++) {
    const k = i % NODES.length;
    vms[`host_${i}`] = {
      node_name: NODES[k],
      name: `host-${i}`,
      vm_id: 1000 + i,
      tags: ['ahl', `persona-${i % 10}`],
      clone: { vm_id: 9000 + k, full: false },
      cpu: { cores: 1 + (i % 2), sockets: 1, type: 'x86-64-v2-AES' },
      memory: { dedicated: 1024 * (1 + (i % 2)) },
      disk: [{ datastore_id: 'local-lvm', interface: 'scsi0', size: 8 }],
      network_device: [{ bridge: 'vmbr0', model: 'virtio', vlan_id: 100 + (i % 4) }],
      agent: { enabled: true, timeout: '60s' },
      initialization: {
        datastore_id: 'local-lvm',
        user_account: { username: 'ahl', keys: [SSH_KEY] },
        ip_config: [{ ipv4: { address: `10.1.${i >> 8}.${(i & 255) + 1}/16`, gateway: '10.1.0.1' } }],
        dns: { servers: ['10.0.0.1'], domain: 'lab.test' },
      },
      on_boot: true,
      started: true,
      stop_on_destroy: true,
      lifecycle: { ignore_changes: ['clone'] },
    };
  }
  return {
    terraform: { required_providers: { proxmox: { source: 'bpg/proxmox', version: PROVIDER_VERSION } } },
    provider: { proxmox: { insecure: true } },
    resource: { proxmox_virtual_environment_vm: vms },
  };
}

/** Runs terraform asynchronously (the sim answers from this process's event loop); resolves with {code, ms, out}. */
function terraform(args, cwd, env) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    execFile('terraform', args, { cwd, env, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, ms, out: `${stdout}${stderr}` });
    });
  });
}

function callsOf(snapshot) {
  const per = Object.entries(snapshot).map(([endpoint, s]) => ({ endpoint, count: s.count, errors: s.errors }));
  per.sort((a, b) => b.count - a.count || a.endpoint.localeCompare(b.endpoint));
  return { total: per.reduce((s, x) => s + x.count, 0), errors: per.reduce((s, x) => s + x.errors, 0), top: per.slice(0, 5) };
}

async function measure(n) {
  const sim = await startSim({ seed: seed(), https: true, authFailureDelayMs: 0, statsLagMs: 0, taskDurationMs: 20 });
  const dir = mkdtempSync(join(tmpdir(), 'ahl-bench-plan-'));
  try {
    writeFileSync(join(dir, 'cli.tfrc'), `provider_installation {\n  filesystem_mirror { path = ${JSON.stringify(MIRROR)} }\n  direct { exclude = ["*/*"] }\n}\n`);
    writeFileSync(join(dir, 'main.tf.json'), `${JSON.stringify(config(n), null, 1)}\n`);
    const env = {
      ...process.env,
      TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'),
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      PROXMOX_VE_ENDPOINT: `${sim.url}/`,
      PROXMOX_VE_API_TOKEN: `${TOKEN.id}=${TOKEN.secret}`,
    };
    delete env.TF_LOG;
    const fail = (what, r) => {
      throw new Error(`${what} failed (exit ${r.code}):\n${r.out.split('\n').slice(-30).join('\n')}`);
    };
    const init = await terraform(['init', '-input=false', '-no-color'], dir, env);
    if (init.code !== 0) fail('terraform init', init);
    const apply = await terraform(['apply', '-auto-approve', '-input=false', '-no-color', '-parallelism=10'], dir, env);
    if (apply.code !== 0) fail(`terraform apply (${n} VMs)`, apply);
    await sim.idle();
    const times = [];
    let calls;
    for (let i = 0; i < RUNS + 1; i++) {
      sim.stats.reset();
      const r = await terraform(['plan', '-refresh=true', '-input=false', '-no-color', '-lock=false', '-detailed-exitcode'], dir, env);
      // 0: no changes. 2 would mean the provider sees a difference right after its own apply (a fidelity bug).
      if (r.code !== 0) fail(`terraform plan (${n} VMs)`, r);
      calls = callsOf(sim.stats.snapshot());
      if (i > 0) times.push(r.ms);
    }
    return { ms: median(times), applyMs: Math.round(apply.ms), calls };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
const detail = [];
for (const n of SIZES) {
  const { ms, applyMs, calls } = await measure(n);
  rows.push({ measure: `terraform plan -refresh=true, ${n} VMs: wall time`, median_ms: ms });
  rows.push({ measure: `terraform plan -refresh=true, ${n} VMs: Proxmox API calls`, median_ms: calls.total });
  detail.push({ vms: n, plan_ms: ms, calls: calls.total, errors: calls.errors, top5: calls.top, setup_apply_ms: applyMs });
}
table(`plan (terraform ${TERRAFORM}, bpg/proxmox ${PROVIDER_VERSION}, parallelism 10)`, rows);
for (const d of detail) {
  process.stdout.write(`\n${d.vms} VMs: ${d.calls} calls (${d.errors} errors), ${(d.calls / d.vms).toFixed(1)} per VM; setup apply took ${d.setup_apply_ms} ms\n`);
  for (const t of d.top5) process.stdout.write(`  ${String(t.count).padStart(5)}  ${t.endpoint}\n`);
}
record('plan', { runs: RUNS, sizes: SIZES, terraform: TERRAFORM, provider: `bpg/proxmox ${PROVIDER_VERSION}`, note: 'median_ms on the API-call rows is the call count of one plan, not a time', rows, detail });
