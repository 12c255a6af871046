import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEventLine, parseEventLines, summarizeEvents } from '../src/index.js';
import { FIXTURES } from './helpers.js';

/* Replays NDJSON recorded from real ansible-playbook runs (the tool tier's lab) through the parser. */
const recorded = (name: string) => parseEventLines(readFileSync(`${FIXTURES}${name}.ndjson`, 'utf8'));

describe('parseEventLine', () => {
  it.each([
    ['{"event":"no_hosts"}', { event: 'no_hosts' }],
    ['[WARNING]: something', undefined],
    ['{"not":"an event"}', undefined],
    ['{broken', undefined],
    ['', undefined],
  ])('%s', (line, event) => {
    expect(parseEventLine(line)).toEqual(event);
  });

  it('keeps the lines that are not events', () => {
    expect(parseEventLines('{"event":"no_hosts"}\nERROR! oops\n\n').other).toEqual(['ERROR! oops']);
  });
});

describe('summarizeEvents (recorded runs)', () => {
  it('a first converge: two hosts changed, the one that is down unreachable', () => {
    const { events, other } = recorded('first-converge');
    expect(other).toEqual([]);
    const r = summarizeEvents(events, ['tinker-2', 'tinker-1', 'devops-1']);
    expect(r.map((h) => [h.host, h.status, h.counts])).toEqual([
      ['devops-1', 'changed', { ok: 30, changed: 18, failed: 0, skipped: 4 }],
      ['tinker-1', 'changed', { ok: 13, changed: 8, failed: 0, skipped: 19 }],
      ['tinker-2', 'unreachable', { ok: 0, changed: 0, failed: 0, skipped: 0 }],
    ]);
    expect(r[2]!.unreachable).toContain('ssh: connect to host 10.77.0.13 port 22: No route to host');
    expect(r[0]!.changed.map((c) => c.task)).toContain('node_exporter : Restart node_exporter');
    expect(r[0]!.changed.find((c) => c.task === 'base : Set the timezone')!.diff).toContain('+    "src": "/usr/share/zoneinfo/Europe/London"');
  });

  it('a second converge: changed=0 everywhere', () => {
    const r = summarizeEvents(recorded('second-converge').events, ['devops-1', 'tinker-1']);
    expect(r.map((h) => [h.host, h.status, h.counts.changed, h.changed])).toEqual([
      ['devops-1', 'ok', 0, []],
      ['tinker-1', 'ok', 0, []],
    ]);
  });

  it('--check after a hand edit: exactly that task, with its diff', () => {
    const r = summarizeEvents(recorded('check-drift').events, ['devops-1', 'tinker-1']);
    expect(r[0]).toEqual({
      host: 'devops-1',
      status: 'changed',
      counts: { ok: 26, changed: 1, failed: 0, skipped: 5 },
      changed: [{ task: 'files : Write the declared files', diff: '--- before: /etc/ahl-motd\n+++ after: /etc/ahl-motd\n@@ -1 +1 @@\n-tampered\n+devops: managed by ahl\n\n' }],
      failed: [],
    });
    expect(r[1]!.status).toBe('ok');
  });

  it('failed tasks carry their message; ignored failures do not count; a host missing from the stats had no result', () => {
    const r = summarizeEvents(
      [
        { event: 'host_task', host: 'a', task: 'users : Write the sudo rules', status: 'failed', msg: 'failed to validate' },
        { event: 'host_task', host: 'a', task: 'probe', status: 'failed', msg: 'meh', ignored: true },
        { event: 'stats', hosts: { a: { ok: 3, changed: 0, failures: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 1 } } },
      ],
      ['a', 'b'],
    );
    expect(r[0]).toMatchObject({ status: 'failed', failed: [{ task: 'users : Write the sudo rules', message: 'failed to validate' }] });
    expect(r[1]).toMatchObject({ host: 'b', status: 'unreachable', unreachable: 'no result from ansible-playbook for this host' });
  });
});
