import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The hostile-input corpus (issue #22): lab files as a hostile pull request would write them. Each
 * case is either refused by `ahl validate` (exit 1, an error at FILE:LINE:COL matching `refused`) or
 * rendered harmlessly by `ahl render` (every string encoded for its target). In both, a canary
 * proves nothing ran and nothing outside the lab was read into the output: see hostile.test.ts.
 * `{CANARY}` in a file stands for a folder outside the lab holding `secret.txt`; a command that
 * ran would create `{CANARY}/ran`.
 */

export type LabFiles = Record<string, string>;

export interface HostileCase {
  readonly name: string;
  /** Changes the base lab's files (path → text). */
  readonly edit: (files: LabFiles) => void;
  /** Runs after the files are written (links). */
  readonly setup?: (dir: string, canary: string) => void;
  /** A diagnostic matching this is expected, and exit 1; absent: the lab is valid and is rendered. */
  readonly refused?: RegExp;
}

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR';

/** A small valid lab touching every target: Terraform, cloud-init, Ansible vars, units, Compose. */
export function baseLab(): LabFiles {
  return {
    'lab.yaml': [
      'name: hostile',
      'description: the base of the hostile corpus',
      'proxmox: {endpoint: "https://pve.lab.example:8006", tokenId: "ahl@pve!ahl", tokenSecret: "env:PM_TOKEN_SECRET"}',
      'nodes: {pve1: {}}',
      `cloudInit: {user: lab, sshKeys: ["${KEY} operator@lab"]}`,
      'ssh: {hostKeyPolicy: accept-new}',
      'workloads: {root: /opt/stacks, dataRoots: [/srv]}',
      'backup: {target: {kind: rsync, host: nas.lab.example, user: backup, path: /backups}}',
      '',
    ].join('\n'),
    'images/debian.yaml': 'os: {family: debian, release: bookworm}\nsource: {url: "https://images.example/d.qcow2", checksumUrl: "https://images.example/SHA512SUMS"}\n',
    'images/debian/channels.json': '{"channels": {"stable": "20261101-120000"}, "history": {}}\n',
    'images/debian/artifacts/20261101-120000.json': JSON.stringify({
      image: 'debian',
      version: '20261101-120000',
      vmid: 9000,
      node: 'pve1',
      storage: 'local-lvm',
      templateName: 'debian-20261101-120000',
      source: { url: 'https://images.example/d.qcow2', digest: 'sha512:00' },
      specDigest: 'sha256:00',
      toolVersion: 'test',
      createdAt: '2026-11-01T12:00:00Z',
    }),
    'personas/app.yaml': [
      'description: application hosts',
      'template: debian@stable',
      'system:',
      '  packages: [curl]',
      '  users:',
      `    - {name: ops, sshKeys: ["${KEY} ops@lab"], sudo: nopasswd}`,
      '  files:',
      '    - {path: /etc/motd, content: "hello\\n"}',
      '  services:',
      '    - {name: ssh}',
      '  containerEngine: {kind: docker}',
      'workloads:',
      '  - stack: web',
      '    env: {GREETING: hello}',
      '    data: [{path: /srv/web}]',
      'backup: {schedule: daily}',
      'hosts:',
      '  app-01: {node: pve1, ip: 192.168.1.31/24, gateway: 192.168.1.1, vmid: 301}',
      '',
    ].join('\n'),
    'stacks/web/compose.yaml': 'services:\n  web:\n    image: nginx:1.27\n    ports: ["8080:80"]\n',
    'stacks/web/index.html.j2': '<p>{{ stack_env.GREETING }} from {{ inventory_hostname }}</p>\n',
  };
}

/** Replaces `from` with `to` in one file; a case whose anchor is gone fails loudly. */
const sub = (path: string, from: string, to: string) => (f: LabFiles) => {
  if (!f[path]?.includes(from)) throw new Error(`hostile corpus: ${path} has no ${JSON.stringify(from)}`);
  f[path] = f[path]!.replace(from, to);
};
const persona = (from: string, to: string) => sub('personas/app.yaml', from, to);
const lab = (from: string, to: string) => sub('lab.yaml', from, to);
const addFile = (path: string, text: string) => (f: LabFiles) => void (f[path] = text);
const HOST = '  app-01: {node: pve1, ip: 192.168.1.31/24, gateway: 192.168.1.1, vmid: 301}';
const hostWith = (extra: string) => persona(HOST, HOST.replace('vmid: 301}', `vmid: 301, ${extra}}`));
const FILES = '    - {path: /etc/motd, content: "hello\\n"}';
const fileEntry = (entry: string) => persona(FILES, `${FILES}\n    - ${entry}`);
const RUN = 'touch {CANARY}/ran';

export const HOSTILE_CASES: readonly HostileCase[] = [
  // ---- Terraform JSON: lab text must stay text (rendered, escaped)
  { name: 'terraform-interpolation-in-persona-description', edit: persona('description: application hosts', 'description: \'${file("{CANARY}/secret.txt")}\'') },
  { name: 'terraform-directive-in-host-description', edit: hostWith('description: \'%{ for x in ["a"] }${x}%{ endfor }\'') },
  { name: 'terraform-interpolation-in-ssh-key-comment', edit: lab('operator@lab', '${file(\\"{CANARY}/secret.txt\\")}') },
  { name: 'terraform-interpolation-in-lab-description', edit: lab('the base of the hostile corpus', '\'${pathexpand("~")}\'') },
  { name: 'terraform-interpolation-in-cpu-type', edit: persona('template: debian@stable', 'template: debian@stable\nresources: {cpuType: \'${file("/etc/passwd")}\'}'), refused: /^personas\/app\.yaml:3:\d+ resources\.cpuType: must be a CPU type/ },
  { name: 'cpu-type-with-extra-proxmox-options', edit: persona('template: debian@stable', 'template: debian@stable\nresources: {cpuType: "host,flags=+aes"}'), refused: /resources\.cpuType: must be a CPU type/ },
  // ---- Jinja on the controller: data, never templates (rendered as !unsafe)
  { name: 'jinja-lookup-in-file-content', edit: fileEntry(`{path: /etc/x, content: "{{ lookup('pipe', '${RUN}') }}"}`) },
  { name: 'jinja-statement-in-file-content', edit: fileEntry(`{path: /etc/y, content: "{% for x in range(10) %}{{ x }}{% endfor %}"}`) },
  { name: 'jinja-lookup-in-env-value', edit: persona('env: {GREETING: hello}', `env: {GREETING: '{{ lookup("pipe", "${RUN}") }}'}`) },
  { name: 'jinja-lookup-in-apt-proxy', edit: persona('  packages: [curl]', `  packages: [curl]\n  aptProxy: "http://proxy.lab/{{lookup('pipe','id')}}"`) },
  { name: 'jinja-in-user-key-comment', edit: persona('ops@lab', "{{ lookup('env', 'PM_TOKEN_SECRET') }}") },
  { name: 'shell-in-data-path', edit: persona('data: [{path: /srv/web}]', `data: [{path: "/srv/web $(${RUN})"}]`) },
  { name: 'shell-in-env-value', edit: persona('env: {GREETING: hello}', `env: {GREETING: "$(${RUN}) \`id\`"}`) },
  { name: 'stack-template-lookup', edit: addFile('stacks/web/evil.conf.j2', `{{ lookup('pipe', '${RUN}') }}\n`), refused: /^stacks\/web\/evil\.conf\.j2:1:4 "lookup" reaches outside/ },
  { name: 'stack-template-query-in-loop', edit: addFile('stacks/web/evil.conf.j2', "{% for l in query('file', '/etc/passwd') %}{{ l }}{% endfor %}\n"), refused: /^stacks\/web\/evil\.conf\.j2:1:13 "query"/ },
  { name: 'stack-template-include', edit: addFile('stacks/web/evil.conf.j2', "{% include '/etc/passwd' %}\n"), refused: /^stacks\/web\/evil\.conf\.j2:1:1 \{% include %\} is not allowed/ },
  { name: 'stack-template-python-internals', edit: addFile('stacks/web/evil.conf.j2', "{{ ''.__class__.__mro__[1].__subclasses__() }}\n"), refused: /^stacks\/web\/evil\.conf\.j2:1:7 "__class__": names starting with "_"/ },
  { name: 'stack-template-hostvars', edit: addFile('stacks/web/evil.conf.j2', '{{ hostvars["nas"] }}\n'), refused: /"hostvars" reaches outside/ },
  // ---- SSH options and destinations
  { name: 'ssh-known-hosts-proxycommand', edit: lab('ssh: {hostKeyPolicy: accept-new}', `ssh: {hostKeyPolicy: accept-new, knownHostsFile: "/tmp/k -oProxyCommand=${RUN}"}`), refused: /^lab\.yaml:6:\d+ ssh\.knownHostsFile: must be a path without whitespace/ },
  { name: 'ssh-private-key-with-quote', edit: lab('ssh: {hostKeyPolicy: accept-new}', 'ssh: {hostKeyPolicy: accept-new, privateKey: "k\' -oProxyCommand=id \'"}'), refused: /ssh\.privateKey: must be a path without whitespace/ },
  { name: 'ssh-jump-host-option', edit: lab('ssh: {hostKeyPolicy: accept-new}', `ssh: {hostKeyPolicy: accept-new, jumpHost: "-oProxyCommand=${RUN}"}`), refused: /ssh\.jumpHost: must be \[USER@\]HOST\[:PORT\]/ },
  { name: 'backup-host-option', edit: lab('host: nas.lab.example', `host: "-oProxyCommand=${RUN}"`), refused: /^lab\.yaml:8:\d+ backup\.target\.host: must be a host name or IPv4 address/ },
  { name: 'backup-host-newline', edit: lab('host: nas.lab.example', 'host: "nas\\nansible_connection: local"'), refused: /backup\.target\.host: must be a host name/ },
  { name: 'node-shell-option', edit: lab('nodes: {pve1: {}}', 'nodes: {pve1: {ssh: "-oProxyCommand=id"}}'), refused: /nodes\.pve1\.ssh: must be \[USER@\]HOST\[:PORT\]/ },
  // ---- systemd units
  { name: 'oncalendar-newline-adds-directive', edit: persona('backup: {schedule: daily}', `backup: {schedule: "daily\\n[Service]\\nExecStartPre=/bin/${RUN}"}`), refused: /^personas\/app\.yaml:16:\d+ backup\.schedule: must be a systemd calendar expression/ },
  { name: 'oncalendar-command-substitution', edit: persona('backup: {schedule: daily}', `backup: {schedule: "$(${RUN})"}`), refused: /backup\.schedule: must be a systemd calendar expression/ },
  { name: 'service-name-with-shell', edit: persona('    - {name: ssh}', `    - {name: "ssh; ${RUN}"}`), refused: /system\.services\[0\]\.name: must be a systemd unit name/ },
  { name: 'service-name-newline', edit: persona('    - {name: ssh}', '    - {name: "ssh\\nExecStart=/bin/sh"}'), refused: /system\.services\[0\]\.name: must be a systemd unit name/ },
  // ---- newlines and NULs in every kind of field
  { name: 'newline-in-persona-description', edit: persona('description: application hosts', 'description: "hosts\\nExecStart=/bin/sh"'), refused: /^personas\/app\.yaml:1:\d+ description: must be one line of text/ },
  { name: 'nul-in-host-description', edit: hostWith('description: "a\\0b"'), refused: /hosts\.app-01\.description: the value holds the control character U\+0000 \(NUL\)/ },
  { name: 'nul-in-file-content', edit: fileEntry('{path: /etc/z, content: "a\\0b"}'), refused: /system\.files\[1\]\.content: the value holds the control character U\+0000 \(NUL\)/ },
  { name: 'newline-in-env-value', edit: persona('env: {GREETING: hello}', 'env: {GREETING: "a\\nOTHER=injected"}'), refused: /workloads\[0\]\.env\.GREETING: must not hold a newline/ },
  { name: 'quote-in-env-value', edit: persona('env: {GREETING: hello}', 'env: {GREETING: "it\'s"}'), refused: /workloads\[0\]\.env\.GREETING: must not hold a newline, a single quote/ },
  { name: 'newline-in-ssh-key', edit: persona(`"${KEY} ops@lab"`, `"${KEY} ops@lab\\nssh-ed25519 AAAA evil@x"`), refused: /system\.users\[0\]\.sshKeys\[0\]: must be an OpenSSH public key line/ },
  { name: 'newline-in-data-path', edit: persona('data: [{path: /srv/web}]', 'data: [{path: "/srv/web\\n/etc"}]'), refused: /workloads\[0\]\.data\[0\]\.path: must be a path without control characters/ },
  { name: 'newline-in-user-shell', edit: persona('sudo: nopasswd}', 'sudo: nopasswd, shell: "/bin/bash\\nx"}'), refused: /system\.users\[0\]\.shell: must be a path without control characters/ },
  { name: 'escape-sequence-in-release', edit: sub('images/debian.yaml', 'release: bookworm', 'release: "bookworm\\e[2J"'), refused: /^images\/debian\.yaml:1:\d+ os\.release: the value holds the control character U\+001B \(ESC\)/ },
  { name: 'newline-in-search-domain', edit: hostWith('searchDomain: "lab.example\\nx"'), refused: /hosts\.app-01\.searchDomain: must be a domain name/ },
  { name: 'package-name-with-shell', edit: persona('packages: [curl]', 'packages: ["curl; rm -rf /"]'), refused: /system\.packages\[0\]: must be a package name/ },
  // ---- paths on the operator's machine
  { name: 'file-source-dot-dot', edit: fileEntry('{path: /etc/a, source: ../../../../../../etc/passwd}'), refused: /^personas\/app\.yaml:9:\d+ system\.files\[1\]\.source: ".*etc\/passwd" resolves to \/etc\/passwd, outside the lab repository/ },
  { name: 'file-source-absolute', edit: fileEntry('{path: /etc/a, source: "{CANARY}/secret.txt"}'), refused: /system\.files\[1\]\.source: ".*secret\.txt" resolves to .*, outside the lab repository/ },
  { name: 'file-source-home', edit: fileEntry('{path: /etc/a, source: "~/.ssh/id_ed25519"}'), refused: /system\.files\[1\]\.source: "~\/\.ssh\/id_ed25519" resolves to .*, outside/ },
  {
    name: 'file-source-symlink-out',
    edit: fileEntry('{path: /etc/a, source: files/innocent.conf}'),
    setup: (dir, canary) => {
      mkdirSync(join(dir, 'files'));
      symlinkSync(join(canary, 'secret.txt'), join(dir, 'files/innocent.conf'));
    },
    refused: /system\.files\[1\]\.source: "files\/innocent\.conf" resolves to .*secret\.txt, outside/,
  },
  { name: 'stack-file-symlink-out', edit: () => undefined, setup: (dir, canary) => symlinkSync(join(canary, 'secret.txt'), join(dir, 'stacks/web/secret.txt')), refused: /^stacks\/web\/secret\.txt:1:1 "stacks\/web\/secret\.txt" resolves to .*, outside/ },
  { name: 'secret-file-ref-outside', edit: persona('    env: {GREETING: hello}', '    env: {GREETING: hello}\n    secrets: {TOKEN: "file:{CANARY}/secret.txt"}'), refused: /workloads\[0\]\.secrets\.TOKEN: .* outside the lab repository/ },
  { name: 'sops-ref-outside', edit: lab('tokenSecret: "env:PM_TOKEN_SECRET"', 'tokenSecret: "sops:../../secrets.yaml#pve.token"'), refused: /^lab\.yaml:3:\d+ proxmox\.tokenSecret: "\.\.\/\.\.\/secrets\.yaml" resolves to .*, outside/ },
  { name: 'state-path-outside', edit: lab('ssh: {hostKeyPolicy: accept-new}', 'ssh: {hostKeyPolicy: accept-new}\nstate: {backend: local, path: ../../elsewhere}'), refused: /state\.path: "\.\.\/\.\.\/elsewhere" resolves to .*, outside/ },
  // ---- the lab's own roles, sysctl, firewall, swap and mounts (issue #25): data, strict forms, paths inside
  {
    name: 'jinja-lookup-in-role-vars',
    edit: (f) => {
      persona('  services:', `  roles:\n    - {role: roles/motd, vars: {motd_text: "{{ lookup('pipe', '${RUN}') }}", motd_more: {"k": ["{% raw %}x"]}}}\n  services:`)(f);
      f['roles/motd/tasks/main.yml'] = '- {name: motd, ansible.builtin.debug: {msg: "{{ motd_text }}"}}\n';
    },
  },
  { name: 'role-folder-dot-dot', edit: persona('  services:', '  roles:\n    - {role: ../../../../etc}\n  services:'), refused: /system\.roles\[0\]\.role: must be a role folder in the lab repository/ },
  {
    name: 'role-folder-symlink-out',
    edit: persona('  services:', '  roles:\n    - {role: roles/innocent}\n  services:'),
    setup: (dir, canary) => {
      mkdirSync(join(dir, 'roles'));
      symlinkSync(canary, join(dir, 'roles/innocent'));
    },
    refused: /system\.roles\[0\]\.role: "roles\/innocent" resolves to .*, outside the lab repository/,
  },
  { name: 'task-file-absolute', edit: persona('  services:', '  roles:\n    - {tasks: "{CANARY}/secret.yml"}\n  services:'), refused: /system\.roles\[0\]\.tasks: must be a path inside the lab repository/ },
  { name: 'requirements-outside', edit: persona('  services:', '  requirements: ../requirements.yml\n  services:'), refused: /system\.requirements: must be a path inside the lab repository/ },
  { name: 'role-var-connection-name', edit: (f) => {
      persona('  services:', '  roles:\n    - {role: roles/motd, vars: {ansible_ssh_common_args: "-oProxyCommand=id"}}\n  services:')(f);
      f['roles/motd/tasks/main.yml'] = '[]\n';
    }, refused: /system\.roles\[0\]\.vars\.ansible_ssh_common_args: is a name ahl or Ansible keeps for itself/ },
  { name: 'sysctl-key-newline', edit: persona('  services:', '  sysctl: {"vm.swappiness\\nkernel.modprobe": 1}\n  services:'), refused: /system\.sysctl\[.*\]: invalid name: must be a sysctl key/ },
  { name: 'sysctl-value-pipe', edit: persona('  services:', `  sysctl: {kernel.core_pattern: "|/bin/sh -c '${RUN}'"}\n  services:`), refused: /system\.sysctl\.kernel\.core_pattern|system\.sysctl\["kernel\.core_pattern"\]: must be a whole number or words/ },
  { name: 'firewall-rule-injection', edit: persona('  services:', '  firewall: {allow: [{port: 80, from: "0.0.0.0/0 accept; flush ruleset"}]}\n  services:'), refused: /system\.firewall\.allow\[0\]\.from: must be an IPv4 address or network/ },
  { name: 'firewall-port-injection', edit: persona('  services:', '  firewall: {allow: [{port: "22 accept\\n}"}]}\n  services:'), refused: /system\.firewall\.allow\[0\]\.port: must be a port/ },
  { name: 'mount-options-newline', edit: persona('  services:', '  mounts: [{label: data, path: /srv/data, fs: ext4, options: ["defaults\\n/dev/sda1 / ext4"]}]\n  services:'), refused: /system\.mounts\[0\]\.options\[0\]: must be one mount option/ },
  { name: 'mount-label-space', edit: persona('  services:', '  mounts: [{label: "data /etc", path: /srv/data, fs: ext4}]\n  services:'), refused: /system\.mounts\[0\]\.label: must be a filesystem label/ },
  // ---- YAML itself
  {
    name: 'yaml-alias-bomb',
    edit: addFile(
      'personas/bomb.yaml',
      ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`), 'template: debian@stable', ''].join('\n'),
    ),
    refused: /^personas\/bomb\.yaml:\d+:\d+ .*alias/i,
  },
  { name: 'yaml-duplicate-key', edit: persona('template: debian@stable', 'template: debian@stable\ntemplate: debian@canary'), refused: /^personas\/app\.yaml:3:\d+ .*(duplicate|already)/i },
  { name: 'yaml-python-tag', edit: persona('description: application hosts', 'description: !!python/object/apply:os.system ["touch /tmp/x"]'), refused: /^personas\/app\.yaml:1:\d+ / },
  { name: 'yaml-deep-nesting', edit: addFile('personas/deep.yaml', `template: debian@stable\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`), refused: /^personas\/deep\.yaml:\d+:\d+ / },
  { name: 'yaml-huge-file', edit: addFile('personas/huge.yaml', `template: debian@stable\ndescription: "${'x'.repeat(10 * 1024 * 1024)}"\n`), refused: /^personas\/huge\.yaml:\d+:\d+ / },
  // ---- what stays allowed, and is rendered as data
  { name: 'compose-merge-keys', edit: addFile('stacks/web/compose.yaml', 'x-base: &base\n  restart: unless-stopped\nservices:\n  web:\n    <<: *base\n    image: nginx:1.27\n    ports: ["8080:80"]\n') },
  { name: 'unicode-and-bidi-in-description', edit: persona('description: application hosts', 'description: "hosts \u202e\u0644\u0627\u0628 🚀"') },
  {
    name: 'file-source-inside-repository',
    edit: (f) => {
      fileEntry('{path: /etc/a, source: files/a.conf}')(f);
      f['files/a.conf'] = 'plain\n';
    },
  },
];
