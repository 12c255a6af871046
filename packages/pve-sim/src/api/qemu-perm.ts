import { ApiError } from '../errors.js';
import { type AuthId, isRoot } from '../auth/permissions.js';
import type { SimCore } from '../model/core.js';
import { isCdrom, isDriveKey, parseOption } from '../model/qemu-config.js';

const CPU = new Set(['cores', 'cpu', 'cpulimit', 'cpuunits', 'numa', 'smp', 'sockets', 'vcpus', 'affinity']);
const MEMORY = new Set(['memory', 'balloon', 'shares', 'allow-ksm', 'hugepages', 'keephugepages']);
const HWTYPE = new Set(['acpi', 'hotplug', 'kvm', 'machine', 'scsihw', 'smbios1', 'tablet', 'vga', 'watchdog', 'audio0', 'rng0', 'spice_enhancements', 'ivshmem', 'amd-sev', 'intel-tdx']);
const GENERAL = new Set([
  'agent',
  'autostart',
  'bios',
  'description',
  'keyboard',
  'localtime',
  'migrate_downtime',
  'migrate_speed',
  'name',
  'onboot',
  'ostype',
  'protection',
  'reboot',
  'startdate',
  'startup',
  'tdf',
  'template',
  'vmgenid',
  'hookscript',
]);
const DISK = new Set(['boot', 'bootdisk', 'vmstatestorage']);
const CLOUDINIT = new Set(['cicustom', 'cipassword', 'citype', 'ciuser', 'ciupgrade', 'nameserver', 'searchdomain', 'sshkeys']);

/**
 * check_vm_modify_config_perm of qemu-server's API2/Qemu.pm: the privilege
 * each option needs on /vms/<vmid> (or via the VM's pool). Drives, serial
 * ports and bridges are value-dependent and checked by checkValuePerms.
 */
export function checkModifyPerms(core: SimCore, auth: AuthId, vmid: number, keys: string[]): void {
  if (isRoot(auth)) return;
  const path = `/vms/${vmid}`;
  for (const opt of keys) {
    if (isDriveKey(opt) || opt === 'cdrom' || /^(?:unused|serial|usb|hostpci)\d+$/.test(opt) || opt === 'tags') continue;
    if (CPU.has(opt) || /^numa\d+$/.test(opt)) core.check(auth, path, ['VM.Config.CPU']);
    else if (MEMORY.has(opt)) core.check(auth, path, ['VM.Config.Memory']);
    else if (HWTYPE.has(opt)) core.check(auth, path, ['VM.Config.HWType']);
    else if (GENERAL.has(opt)) {
      core.check(auth, path, ['VM.Config.Options']);
      if (opt === 'startup') core.check(auth, '/', ['Sys.Modify']);
    } else if (opt === 'freeze') core.check(auth, path, ['VM.PowerMgmt']);
    else if (DISK.has(opt)) core.check(auth, path, ['VM.Config.Disk']);
    else if (/^net\d+$/.test(opt)) core.check(auth, path, ['VM.Config.Network']);
    else if (CLOUDINIT.has(opt) || /^ipconfig\d+$/.test(opt)) core.check(auth, path, ['VM.Config.Network', 'VM.Config.Cloudinit'], true);
    else throw new ApiError(500, `only root can set '${opt}' config\n`);
  }
}

/** Value-dependent checks: drive kind, serial devices, bridge access (SDN.Use). */
export function checkValuePerms(core: SimCore, auth: AuthId, vmid: number, values: Record<string, string>): void {
  if (isRoot(auth)) return;
  const path = `/vms/${vmid}`;
  for (const [k, v] of Object.entries(values)) {
    if (isDriveKey(k)) core.check(auth, path, [isCdrom(v) && !/cloudinit/.test(v) ? 'VM.Config.CDROM' : 'VM.Config.Disk']);
    else if (/^serial\d+$/.test(k)) {
      if (v !== 'socket') throw new ApiError(403, `only root can modify '${k}' config for real devices\n`);
      core.check(auth, path, ['VM.Config.HWType']);
    } else if (/^net\d+$/.test(k)) {
      checkBridgeAccess(core, auth, v, k);
    }
  }
}

export function checkBridgeAccess(core: SimCore, auth: AuthId, netValue: string, key: string): void {
  if (isRoot(auth)) return;
  let bridge: string | undefined;
  try {
    bridge = parseOption(key, netValue).bridge;
  } catch {
    return;
  }
  if (bridge) core.check(auth, `/sdn/zones/localnetwork/${bridge}`, ['SDN.Use'], true);
}
