import { describe, expect, it } from 'vitest';
import { hostTrouble } from '../src/up.js';

describe('hostTrouble: why a host could not converge, in a line', () => {
  it('names the machine SSH could not reach, which may be a delegated one such as the backup host', () => {
    const unreachable = 'Data could not be sent to remote host "nas.lab.example". Make sure this host can be reached over ssh: ssh: Could not resolve hostname nas.lab.example: Temporary failure in name resolution\r\n';
    expect(hostTrouble({ host: 'docker-01', status: 'unreachable', changed: [], unreachable })).toBe('nas.lab.example: Could not resolve hostname nas.lab.example: Temporary failure in name resolution');
    expect(hostTrouble({ host: 'nuc', status: 'unreachable', changed: [], unreachable: 'no result from ansible-playbook for this host' })).toBe('no result from ansible-playbook for this host');
  });

  it('gives the first failed task, one line of it, cut short', () => {
    const failed = [{ task: 'stacks : Pull the images', message: `pull access denied\n${'x'.repeat(300)}` }, { task: 'later', message: 'ignored' }];
    expect(hostTrouble({ host: 'a', status: 'failed', changed: [], failed })).toBe('stacks : Pull the images: pull access denied');
    expect(hostTrouble({ host: 'a', status: 'failed', changed: [], failed: [{ task: 't', message: 'y'.repeat(300) }] })).toHaveLength(158);
  });

  it('says nothing of a host that is fine', () => {
    expect(hostTrouble({ host: 'a', status: 'changed', changed: [{}] })).toBeUndefined();
  });
});
