import { describe, expect, it } from 'vitest';
import { buildDrift, buildReconcile, planReconcile, reconcilePayload, type CheckedHost } from '@ahl/ops';
import { renderReconcile } from '../src/views/reconcile.js';

const plain = (_s: unknown, t: string) => t;
const host = (name: string, status: CheckedHost['status'], tasks: string[] = []): CheckedHost => ({ host: name, status, changed: tasks.map((task) => ({ task })), failed: [] });
const at = new Date('2026-11-26T10:00:00Z');

describe('reconcile', () => {
  const drift = buildDrift({
    at,
    status: {
      api: { ok: true },
      hosts: [{ host: 'web-01', template: { state: 'behind', ref: 'deb@stable', version: '20261101-000000', channelVersion: '20261120-000000' } }],
    } as never,
    system: { hosts: [host('web-01', 'changed', ['files : Write the declared files']), host('web-02', 'ok'), host('web-03', 'unreachable')], intents: new Map([['web-01', 'a']]) },
    workload: { hosts: [host('web-02', 'changed', ['stacks : Deploy']), host('web-01', 'ok')], intents: new Map() },
    states: new Map([['web-01', { system: { at: '2026-11-25T00:00:00Z', status: 'ok', changed: [], intent: 'a' } }]]) as never,
  });

  it('converges L3 then L4 in place, and leaves a rebuild for approval', () => {
    expect(planReconcile(drift)).toEqual([
      { layer: 'L3', command: 'converge system', hosts: ['web-01'], safe: true, why: 'in place: the OS is converged back to its intent' },
      { layer: 'L4', command: 'converge workload', hosts: ['web-02'], safe: true, why: 'in place: changed stacks are redeployed, data stays; undeclared stacks are only removed with approval' },
      { layer: 'L1', command: 'rebuild', hosts: ['web-01'], safe: false, why: 'a rebuild replaces the VM: review it, then `ahl rebuild HOST`' },
    ]);
  });

  it('applies in-place VM changes first (Terraform), and leaves a replacement and a missing VM for approval', () => {
    const vm = (host: string, action: 'update' | 'replace' | 'no-op', extra: object = {}) => ({ host, action, changes: [], replaceBecause: [], drift: [], ...extra });
    const d = buildDrift({
      at,
      passthrough: { hosts: [{ host: 'a', state: 'in-sync', actions: [] }, { host: 'b', state: 'in-sync', actions: [] }, { host: 'c', state: 'absent', actions: [] }, { host: 'd', state: 'in-sync', actions: [] }], intents: new Map() },
      terraform: {
        hosts: [
          vm('a', 'update', { changes: [{ path: 'memory.0.dedicated', before: 2048, after: 4096 }] }),
          vm('b', 'replace', { replaceBecause: ['node_name'], changes: [{ path: 'node_name', before: 'pve1', after: 'pve2' }] }),
          vm('d', 'no-op', { adopt: 'pve1/304' }),
        ],
        unresolved: [],
      },
      states: new Map(),
    });
    expect(d.findings.map((f) => [f.host, f.cause, f.terraform ?? '', f.what.join('; ')])).toEqual([
      ['c', 'never converged here', '', 'no VM on the server'],
      ['a', 'intent changed', 'update', 'memory.0.dedicated: 2048 → 4096'],
      ['b', 'intent changed', 'replace', 'replace: node_name cannot change in place; node_name: pve1 → pve2'],
      ['d', 'never converged here', 'adopt', "the VM pve1/304 is not in Terraform's state yet"],
    ]);
    expect(planReconcile(d).map((s) => [s.layer, s.command, s.hosts, s.safe])).toEqual([
      ['L2', 'apply', ['a', 'd'], true],
      ['L2', 'up', ['c'], false],
      ['L2', 'apply', ['b'], false],
    ]);
  });

  it('reports what was made, what waits and what could not be checked; only a full reconcile is clean', () => {
    const steps = planReconcile(drift);
    const outcomes = [
      { layer: 'L3' as const, host: 'web-01', result: 'reconciled' as const, detail: '1 change made' },
      { layer: 'L4' as const, host: 'web-02', result: 'reconciled' as const, detail: '1 change made' },
      { layer: 'L1' as const, host: 'web-01', result: 'awaiting approval' as const, detail: 'ahl rebuild web-01' },
    ];
    const r = buildReconcile(drift, steps, outcomes, true, at);
    expect(r.clean).toBe(false);
    expect(renderReconcile(r, plain)).toBe(
      [
        'L3 ahl converge system web-01  made  in place: the OS is converged back to its intent',
        'L4 ahl converge workload web-02  made  in place: changed stacks are redeployed, data stays; undeclared stacks are only removed with approval',
        'L1 ahl rebuild web-01  awaits approval  a rebuild replaces the VM: review it, then `ahl rebuild HOST`',
        '  ✓ web-01 L3  reconciled: 1 change made',
        '  ✓ web-02 L4  reconciled: 1 change made',
        '  … web-01 L1  awaiting approval: ahl rebuild web-01',
        '  ? web-03 L3  not checked: unreachable: ',
        'reconciled 2, awaiting approval 1, failed 0, not checked 1',
        '',
      ].join('\n'),
    );
    expect(reconcilePayload('lab', r)).toEqual({
      lab: 'lab',
      at: '2026-11-26T10:00:00.000Z',
      clean: false,
      summary: 'lab: reconciled 2, awaiting approval 1, failed 0, not checked 1',
      reconciled: [
        { layer: 'L3', host: 'web-01', detail: '1 change made' },
        { layer: 'L4', host: 'web-02', detail: '1 change made' },
      ],
      awaitingApproval: [{ layer: 'L1', host: 'web-01', detail: 'ahl rebuild web-01' }],
      failed: [],
      unchecked: [{ layer: 'L3', host: 'web-03', reason: 'unreachable: ' }],
    });
  });

  it('is clean when nothing drifted, and a plan is never clean when there is work', () => {
    const quiet = buildDrift({ at, system: { hosts: [host('web-01', 'ok')], intents: new Map() }, workload: 'left out', states: new Map() });
    expect(planReconcile(quiet)).toEqual([]);
    const r = buildReconcile(quiet, [], [], true, at);
    expect(r.clean).toBe(true);
    expect(renderReconcile(r, plain)).toBe('no drift: nothing to reconcile\n');
    const plan = buildReconcile(drift, planReconcile(drift), [], false, at);
    expect(plan.clean).toBe(false);
    expect(renderReconcile(plan, plain).trimEnd().split('\n').pop()).toBe('plan only (--plan): nothing was changed');
  });
});
