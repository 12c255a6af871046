import { describe, expect, it } from 'vitest';
import { startRebuild, type RebuildRecord } from '../src/index.js';

describe('startRebuild', () => {
  const unfinished: RebuildRecord = { host: 'app-01', startedAt: '2026-11-26T10:00:00Z', template: '20261120-000000', done: ['recreate'], failed: { phase: 'system', message: 'the system converge failed', at: '2026-11-26T10:05:00Z' } };
  const finished: RebuildRecord = { host: 'app-01', startedAt: '2026-11-26T10:00:00Z', template: '20261120-000000', done: ['recreate', 'system', 'workload'], finishedAt: '2026-11-26T10:09:00Z' };

  it('starts a new rebuild when there is no record, or only a finished one (it is history, not carried on)', () => {
    expect(startRebuild('app-01', undefined, false)).toEqual({ kind: 'new' });
    expect(startRebuild('app-01', finished, false)).toEqual({ kind: 'new' });
  });

  it('refuses --resume with nothing unfinished, saying when the last one finished and what starts a new one', () => {
    expect(startRebuild('app-01', undefined, true)).toEqual({ kind: 'refused', message: 'there is no unfinished rebuild of app-01 to resume' });
    expect(startRebuild('app-01', finished, true)).toEqual({
      kind: 'refused',
      message: 'there is no unfinished rebuild of app-01 to resume: the last one finished at 2026-11-26T10:09:00Z; `ahl rebuild app-01 --approve` starts a new one',
    });
  });

  it('refuses a new rebuild over an unfinished one, and carries that one on with --resume', () => {
    expect(startRebuild('app-01', unfinished, false)).toEqual({ kind: 'refused', message: 'a rebuild of app-01 is unfinished (system failed: the system converge failed); carry it on with --resume' });
    expect(startRebuild('app-01', { ...unfinished, failed: undefined, done: [] } as RebuildRecord, false)).toMatchObject({ message: 'a rebuild of app-01 is unfinished (done: nothing yet); carry it on with --resume' });
    expect(startRebuild('app-01', unfinished, true)).toEqual({ kind: 'resume', record: unfinished });
  });
});
