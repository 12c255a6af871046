import { describe, expect, it } from 'vitest';
import { durationMs, freshness, lastJsonLine, parseDeployReport, parseScriptReport, parseStatusOutput, type BackupRecord } from '../src/index.js';

const record: BackupRecord = {
  host: 'app-1',
  id: '20261126T031500Z',
  time: '2026-11-26T03:15:00Z',
  finished: '2026-11-26T03:15:09Z',
  status: 'ok',
  size: 65545,
  files: 2,
  digest: `sha256:${'a'.repeat(64)}`,
  paths: ['/srv/web/data'],
  target: 'rsync://lab@10.79.0.12:22/srv/backup/app-1',
};

describe('records', () => {
  it('parses a deploy report and tolerates garbage', () => {
    const r = parseDeployReport('{"stacks":[{"name":"web","changed":true,"action":"recreate","containers":["/web-web-1 running none"]}],"orphans":["old"],"removed":[],"compose":"docker-compose"}');
    expect(r).toEqual({ stacks: [{ name: 'web', changed: true, action: 'recreate', containers: ['/web-web-1 running none'] }], orphans: ['old'], removed: [], compose: 'docker-compose' });
    expect(parseDeployReport('not json')).toBeUndefined();
    expect(parseDeployReport('{"stacks":[],"compose":null}')?.compose).toBeNull();
  });

  it('reads the record a script printed last', () => {
    const rep = parseScriptReport(JSON.stringify({ rc: 0, stdout: `noise\n${JSON.stringify(record)}\n`, stderr: '' }))!;
    expect(rep.rc).toBe(0);
    expect(lastJsonLine<BackupRecord>(rep.stdout)).toEqual(record);
    expect(lastJsonLine('nothing here')).toBeUndefined();
  });

  it('reads the status records back', () => {
    const s = parseStatusOutput(`last\t${JSON.stringify(record)}\nlast-restore\t{"host":"app-1","id":"x","time":"t","status":"ok","digest":"d","expected":"d","restarted":[]}\nbogus line\n`);
    expect(s.last?.id).toBe(record.id);
    expect(s.lastRestore?.status).toBe('ok');
    expect(s.lastFailure).toBeUndefined();
  });

  it('judges freshness against maxAge', () => {
    expect(durationMs('26h')).toBe(26 * 3_600_000);
    expect(() => durationMs('1w')).toThrow();
    expect(freshness(record, '26h', new Date('2026-11-26T05:15:09Z'))).toEqual({ ageMs: 2 * 3_600_000, fresh: true, maxAge: '26h' });
    expect(freshness(record, '1h', new Date('2026-11-26T05:15:09Z')).fresh).toBe(false);
    expect(freshness(undefined, '26h', new Date())).toEqual({ fresh: false, maxAge: '26h' });
    expect(freshness({ ...record, status: 'failed' }, '26h', new Date()).fresh).toBe(false);
  });
});
