import { describe, expect, it } from 'vitest';
import { buildSteps, DEFAULT_RECIPE, ext4Label, imageForLabel, recipeFor, UBUNTU_RECIPE, guestExtraDisks, guestNics, guestSeed, qemuArgv, recipeDigest, sshArgv, tapName } from '../src/index.js';

describe('image recipe', () => {
  it('has a digest that changes exactly when the recipe does', () => {
    expect(recipeDigest(DEFAULT_RECIPE)).toMatch(/^[0-9a-f]{16}$/);
    expect(recipeDigest({ ...DEFAULT_RECIPE })).toBe(recipeDigest(DEFAULT_RECIPE));
    expect(recipeDigest({ ...DEFAULT_RECIPE, packages: [...DEFAULT_RECIPE.packages, 'jq'] })).not.toBe(recipeDigest(DEFAULT_RECIPE));
    expect(recipeDigest({ ...DEFAULT_RECIPE, builderVersion: 99 })).not.toBe(recipeDigest(DEFAULT_RECIPE));
  });

  it('builds a partitioned disk without loop devices', () => {
    const steps = buildSteps(DEFAULT_RECIPE, { root: '/w/root', rawDisk: '/w/disk.raw', rawPart: '/w/part.raw', qcow2: '/w/disk.qcow2' }, 'http://mirror.example/debian');
    const names = steps.map((s) => s.name);
    expect(names[0]).toBe('debootstrap');
    expect(names.slice(-5)).toEqual(['raw disk', 'partition', 'filesystem', 'lay filesystem into disk', 'qcow2']);
    const argv = (name: string) => {
      const s = steps.find((x) => x.name === name)!;
      return 'argv' in s ? s.argv.join(' ') : '';
    };
    expect(argv('filesystem')).toBe('mkfs.ext4 -q -L ahlroot -d /w/root -E root_owner=0:0 /w/part.raw 3071M');
    expect(argv('lay filesystem into disk')).toBe('dd if=/w/part.raw of=/w/disk.raw bs=1M seek=1 conv=notrunc,sparse status=none');
    expect(names.indexOf('guest files')).toBeLessThan(names.indexOf('apt install'));
    expect(names.indexOf('allow services again')).toBeGreaterThan(names.indexOf('apt install'));
    // The mirror is the one given: debootstrap fetches from it, and the guests' apt sources name it.
    expect(argv('debootstrap')).toMatch(/ bookworm \/w\/root http:\/\/mirror\.example\/debian$/);
    const sources = steps.find((s) => s.name === 'apt sources')!;
    expect('files' in sources && sources.files['/w/root/etc/apt/sources.list']!.text).toBe(
      'deb http://mirror.example/debian bookworm main\ndeb http://mirror.example/debian bookworm-updates main\n',
    );
  });

  it('keeps the mirror out of the recipe and its digest: another mirror serves the same image', () => {
    for (const recipe of [DEFAULT_RECIPE, UBUNTU_RECIPE]) {
      expect(Object.keys(recipe)).not.toContain('mirror');
      expect(JSON.stringify(recipe)).not.toMatch(/https?:/);
    }
  });

  it('builds Ubuntu noble with the gutsy script, Ubuntu\'s keyring, universe, netplan and its own root label', () => {
    expect(recipeFor('ubuntu')).toBe(UBUNTU_RECIPE);
    expect(recipeFor('debian')).toBe(DEFAULT_RECIPE);
    expect(recipeFor('haos')).toBeUndefined();
    const steps = buildSteps(UBUNTU_RECIPE, { root: '/w/root', rawDisk: '/w/disk.raw', rawPart: '/w/part.raw', qcow2: '/w/disk.qcow2' }, 'http://mirror.example/ubuntu', '/k/ubuntu.gpg');
    const step = (name: string) => steps.find((x) => x.name === name)!;
    const argv = (name: string) => {
      const s = step(name);
      return 'argv' in s ? s.argv.join(' ') : '';
    };
    expect(argv('debootstrap')).toBe(
      'debootstrap --variant=minbase --include=systemd-sysv,udev,apt,ca-certificates,gnupg --components=main,universe --keyring=/k/ubuntu.gpg noble /w/root http://mirror.example/ubuntu /usr/share/debootstrap/scripts/gutsy',
    );
    const sources = step('apt sources');
    expect('files' in sources && sources.files['/w/root/etc/apt/sources.list']!.text).toBe(
      'deb http://mirror.example/ubuntu noble main universe\ndeb http://mirror.example/ubuntu noble-updates main universe\n',
    );
    const files = step('guest files');
    expect('files' in files && files.files['/w/root/etc/fstab']!.text).toBe('LABEL=ahlroot-noble / ext4 defaults,discard,errors=remount-ro 0 1\n');
    expect('files' in files && Object.keys(files.files)).not.toContain('/w/root/etc/network/interfaces');
    expect(argv('enable guest services')).toContain('ssh.socket systemd-networkd.service systemd-resolved.service');
    expect(argv('forget host resolver')).toBe('sh -c ln -sfn ../run/systemd/resolve/stub-resolv.conf /w/root/etc/resolv.conf');
    expect(argv('filesystem')).toContain('-L ahlroot-noble ');
    expect(UBUNTU_RECIPE.rootLabel.length).toBeLessThanOrEqual(16); // ext4's limit
    expect(recipeDigest(UBUNTU_RECIPE)).not.toBe(recipeDigest(DEFAULT_RECIPE));
  });
});

describe('which image boots a disk', () => {
  const superblock = (label: string) => {
    const b = new Uint8Array(1024);
    b[56] = 0x53;
    b[57] = 0xef;
    b.set(new TextEncoder().encode(label), 120);
    return b;
  };
  const image = (rootLabel: string) => ({ recipe: { rootLabel } }) as unknown as Parameters<typeof imageForLabel>[2];

  it('reads the label of an ext4 superblock, and nothing from what is not one', () => {
    expect(ext4Label(superblock('ahlroot-noble'))).toBe('ahlroot-noble');
    expect(ext4Label(superblock('exactly16charsxx'))).toBe('exactly16charsxx');
    expect(ext4Label(new Uint8Array(1024))).toBeUndefined();
    expect(ext4Label(new Uint8Array(10))).toBeUndefined();
  });

  it('is the image of the same root label, else the default one', () => {
    const debian = image('ahlroot');
    const ubuntu = image('ahlroot-noble');
    expect(imageForLabel('ahlroot-noble', [debian, ubuntu], debian)).toBe(ubuntu);
    expect(imageForLabel('ahlroot', [debian, ubuntu], debian)).toBe(debian);
    expect(imageForLabel(undefined, [debian, ubuntu], debian)).toBe(debian);
    expect(imageForLabel('something-else', [ubuntu], debian)).toBe(debian);
  });
});

describe('cloud-init seed in Proxmox format', () => {
  it('renders user-data, network-config and meta-data', () => {
    const seed = guestSeed({
      hostname: 'docker-01',
      searchDomain: 'lab.example',
      user: 'lab',
      sshKeys: ['ssh-ed25519 AAAA k1'],
      mac: 'BC:24:11:00:00:01',
      ip: '10.77.0.11/24',
      gateway: '10.77.0.1',
      nameservers: ['10.77.0.1'],
      upgrade: false,
    });
    expect(seed.userData).toBe(
      '#cloud-config\nhostname: docker-01\nmanage_etc_hosts: true\nfqdn: docker-01.lab.example\nuser: lab\nssh_authorized_keys:\n  - ssh-ed25519 AAAA k1\nchpasswd:\n  expire: False\nusers:\n  - default\n',
    );
    expect(seed.networkConfig).toBe(
      "version: 1\nconfig:\n    - type: physical\n      name: eth0\n      mac_address: 'bc:24:11:00:00:01'\n      subnets:\n      - type: static\n        address: '10.77.0.11'\n        netmask: '255.255.255.0'\n        gateway: '10.77.0.1'\n    - type: nameserver\n      address:\n      - '10.77.0.1'\n      search:\n      - 'lab.example'\n",
    );
    expect(seed.metaData).toMatch(/^instance-id: [0-9a-f]{40}\n$/);
  });
});

describe('QEMU and SSH command lines', () => {
  it('boots the kernel directly with virtio devices, in the namespace', () => {
    const argv = qemuArgv({ name: 'r1-web', disk: '/d.qcow2', kernel: '/k', initrd: '/i', rootLabel: 'ahlroot', seedIso: '/s.iso', memoryMiB: 1024, cpus: 2, tap: 'ahltr10', mac: 'BC:24:11:00:00:01', accel: 'tcg', runDir: '/run/x' });
    const line = argv.join(' ');
    expect(line).toContain('-machine q35,accel=tcg');
    expect(line).toContain("-append root=LABEL=ahlroot rw console=ttyS0,115200 net.ifnames=0 biosdevname=0 quiet");
    expect(line).toContain('-netdev tap,id=n0,ifname=ahltr10,script=no,downscript=no');
    expect(line).toContain('-device virtio-net-pci,netdev=n0,mac=bc:24:11:00:00:01');
    expect(line).toContain('-serial file:/run/x/serial.log');
    expect(line).toContain('-daemonize');
  });

  it('gives a guest its extra disks (with their serials) and NICs (one tap each)', () => {
    const argv = qemuArgv({
      name: 'r1-nas', disk: '/d.qcow2', kernel: '/k', initrd: '/i', rootLabel: 'ahlroot', memoryMiB: 1024, cpus: 1, tap: 'ahltr10', mac: 'BC:24:11:00:00:01', accel: 'tcg', runDir: '/run/x',
      extraDisks: [{ path: '/e1.qcow2', serial: 'ahl-scsi1' }, { path: '/e2.qcow2' }],
      extraNics: [{ tap: 'ahltr11', mac: 'BC:24:11:00:00:02' }],
    });
    const pairs = (flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
    expect(pairs('-drive')).toEqual([
      'file=/d.qcow2,if=virtio,format=qcow2,discard=unmap,cache=unsafe',
      'file=/e1.qcow2,if=none,id=d1,format=qcow2,discard=unmap,cache=unsafe',
      'file=/e2.qcow2,if=none,id=d2,format=qcow2,discard=unmap,cache=unsafe',
    ]);
    expect(pairs('-device').filter((d) => d!.startsWith('virtio-blk'))).toEqual(['virtio-blk-pci,drive=d1,serial=ahl-scsi1', 'virtio-blk-pci,drive=d2']);
    expect(pairs('-netdev')).toEqual(['tap,id=n0,ifname=ahltr10,script=no,downscript=no', 'tap,id=n1,ifname=ahltr11,script=no,downscript=no']);
    expect(pairs('-device').filter((d) => d!.startsWith('virtio-net'))).toEqual(['virtio-net-pci,netdev=n0,mac=bc:24:11:00:00:01', 'virtio-net-pci,netdev=n1,mac=bc:24:11:00:00:02']);
  });

  it('reads the extra disks and NICs a guest starts with from its config', () => {
    const config = {
      scsi0: 'local-lvm:vm-301-disk-0,size=8G',
      virtio1: 'local-lvm:vm-301-disk-2,serial=ahl-virtio1,size=1G',
      scsi2: 'local-lvm:vm-301-disk-1,backup=0,serial=ahl-scsi2,size=2G',
      scsi10: 'local-lvm:vm-301-disk-3,size=2G',
      sata1: '/dev/disk/by-id/ata-WDC_1,backup=0',
      ide2: 'local-lvm:vm-301-cloudinit,media=cdrom',
      ide0: 'none,media=cdrom',
      net10: 'virtio=BC:24:11:00:00:0A,bridge=vmbr2',
      net1: 'virtio=BC:24:11:00:00:02,bridge=vmbr1,tag=20',
      net0: 'virtio=BC:24:11:00:00:01,bridge=vmbr0',
    };
    expect(guestExtraDisks(config, 'scsi0')).toEqual([
      { key: 'scsi2', volid: 'local-lvm:vm-301-disk-1', serial: 'ahl-scsi2' },
      { key: 'scsi10', volid: 'local-lvm:vm-301-disk-3' },
      { key: 'virtio1', volid: 'local-lvm:vm-301-disk-2', serial: 'ahl-virtio1' },
    ]);
    expect(guestNics(config)).toEqual([
      { key: 'net0', mac: 'BC:24:11:00:00:01', bridge: 'vmbr0' },
      { key: 'net1', mac: 'BC:24:11:00:00:02', bridge: 'vmbr1' },
      { key: 'net10', mac: 'BC:24:11:00:00:0A', bridge: 'vmbr2' },
    ]);
  });

  it('keeps interface names within 15 bytes', () => {
    expect(tapName('abcdef', 12).length).toBeLessThanOrEqual(15);
  });

  it('runs ssh inside the namespace with keys only', () => {
    expect(sshArgv({ host: '10.77.0.11', user: 'lab', key: '/k', inNamespace: (a) => ['ip', 'netns', 'exec', 'ns', ...a] }, 'hostname')).toEqual([
      'ip', 'netns', 'exec', 'ns', 'ssh', '-i', '/k', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no',
      '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', 'lab@10.77.0.11', 'hostname',
    ]);
  });
});

describe('apt proxy policy', () => {
  it('forwards only GET/HEAD of http:// URLs on the mirrors it is given', async () => {
    const { allowProxyRequest, mirrorHosts } = await import('../src/index.js');
    const allowed = mirrorHosts(['http://mirror.example/debian', 'http://cache.example:3142/debian/', 'http://mirror.example/debian-security']);
    expect(allowed).toEqual(['cache.example:3142', 'mirror.example']);
    expect(allowProxyRequest('GET', 'http://mirror.example/debian/dists/bookworm/Release', allowed).ok).toBe(true);
    expect(allowProxyRequest('HEAD', 'http://cache.example:3142/debian/dists/bookworm/Release', allowed).ok).toBe(true);
    expect(allowProxyRequest('GET', 'http://cache.example/debian/', allowed)).toEqual({ ok: false, reason: 'cache.example is not a package mirror' });
    expect(allowProxyRequest('GET', 'http://example.com/', allowed)).toEqual({ ok: false, reason: 'example.com is not a package mirror' });
    expect(allowProxyRequest('POST', 'http://mirror.example/', allowed)).toEqual({ ok: false, reason: 'method POST is not allowed' });
    expect(allowProxyRequest('GET', '/relative', allowed)).toEqual({ ok: false, reason: 'not a proxy request (absolute http:// URL expected)' });
    expect(allowProxyRequest('GET', 'https://mirror.example/', allowed)).toEqual({ ok: false, reason: 'https: is not proxied' });
  });
});
