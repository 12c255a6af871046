#!/usr/bin/python
# ahl L4: reads in one pass what a deploy would change on a host, so that an unchanged host costs
# one module run instead of one per file, folder and stack. It changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
module: ahl_state
short_description: What an ahl L4 deploy would change on this host (read-only)
description:
  - Compares files, folders and systemd timers with what the deploy writes, and reads the state of
    the Compose stacks in one C(docker ps). Runs in check mode too; never changes anything.
options:
  files:
    description: Files as the deploy writes them (dest, sha256 or content, mode); owner root.
    type: list
    elements: dict
    default: []
  content:
    description: Expected content by dest, for files whose digest must not be logged (a stack's .env).
    type: dict
    default: {}
  dirs:
    description: Folders the deploy makes (path, mode, and owner root unless any_owner).
    type: list
    elements: dict
    default: []
  read:
    description: Small files to return the content of (a public key, the last deploy's digest).
    type: list
    elements: str
    default: []
  timers:
    description: systemd units that must be enabled and active.
    type: list
    elements: str
    default: []
  stacks:
    description: Compose projects (name) whose containers to report; with root, the ahl stacks found under it.
    type: list
    elements: str
    default: []
  root:
    description: The stacks root, searched for folders marked .ahl-stack.
    type: str
  compose:
    description: Find the Compose command (v2 plugin, else v1) from the files installed, without running it.
    type: bool
    default: false
  checks:
    description: Read-only commands by name (argv); their exit status is returned.
    type: dict
    default: {}
"""

import hashlib
import os
import shutil
import stat
import subprocess

from ansible.module_utils.basic import AnsibleModule


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_ok(path, want_sha, mode):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or st.st_gid != 0 or stat.S_IMODE(st.st_mode) != int(mode, 8):
        return False
    return digest(path) == want_sha


def dir_ok(path, mode, any_owner):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == int(mode, 8) and (any_owner or st.st_uid == 0)


def run(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, check=False)
        return p.returncode, p.stdout
    except OSError:
        return 127, ""


# Where the Docker CLI looks for its plugins (root's own folder first), as packages install them.
PLUGIN_DIRS = ["/root/.docker/cli-plugins", "/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
               "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"]


def find_compose():
    # Found by its files: starting Compose (v1 is Python) costs seconds on a slow guest.
    dirs = [os.path.join(os.environ["DOCKER_CONFIG"], "cli-plugins")] if os.environ.get("DOCKER_CONFIG") else []
    if shutil.which("docker") and any(os.access(os.path.join(d, "docker-compose"), os.X_OK) for d in dirs + PLUGIN_DIRS):
        return "docker compose"
    if shutil.which("docker-compose"):
        return "docker-compose"
    return None


def health(status):
    # `docker ps` shows the health check in the status: "Up 3 minutes (healthy)", "(health: starting)".
    for word, state in (("(healthy)", "healthy"), ("(unhealthy)", "unhealthy"), ("(health: starting)", "starting")):
        if word in status:
            return state
    return "none"


def containers(projects):
    """Per project: the running containers as the deploy's wait reports them, and their services."""
    out = {p: {"containers": [], "running": []} for p in projects}
    if not projects:
        return out, True
    fmt = '{{.Label "com.docker.compose.project"}}\t{{.Label "com.docker.compose.service"}}\t{{.Names}}\t{{.State}}\t{{.Status}}'
    rc, text = run(["docker", "ps", "--no-trunc", "--filter", "status=running", "--format", fmt])
    if rc != 0:
        return out, False
    for line in sorted(text.splitlines()):
        parts = line.split("\t")
        if len(parts) != 5 or parts[0] not in out:
            continue
        project, service, name, state, status = parts
        out[project]["containers"].append(f"/{name} {state} {health(status)}")
        if service not in out[project]["running"]:
            out[project]["running"].append(service)
    return out, True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", default=[]),
            content=dict(type="dict", default={}, no_log=True),
            dirs=dict(type="list", elements="dict", default=[]),
            read=dict(type="list", elements="str", default=[]),
            timers=dict(type="list", elements="str", default=[]),
            stacks=dict(type="list", elements="str", default=[]),
            root=dict(type="str"),
            compose=dict(type="bool", default=False),
            checks=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    write = []
    for f in p["files"]:
        dest = f["dest"]
        want = f.get("sha256")
        if dest in p["content"]:
            want = hashlib.sha256(p["content"][dest].encode("utf-8")).hexdigest()
        if not want or not file_ok(dest, want, f.get("mode", "0644")):
            write.append(dest)
    make = [d["path"] for d in p["dirs"] if not dir_ok(d["path"], d.get("mode", "0755"), d.get("any_owner", False))]
    read = {}
    for path in p["read"]:
        try:
            with open(path, encoding="utf-8") as fh:
                read[path] = fh.read()
        except OSError:
            read[path] = None
    timers = []
    for unit in p["timers"]:
        enabled = run(["systemctl", "is-enabled", "--quiet", unit])[0] == 0
        active = run(["systemctl", "is-active", "--quiet", unit])[0] == 0
        if not (enabled and active):
            timers.append(unit)
    deployed = []
    if p["root"] and os.path.isdir(p["root"]):
        deployed = sorted(n for n in os.listdir(p["root"]) if os.path.isfile(os.path.join(p["root"], n, ".ahl-stack")))
    projects, docker_ok = containers(p["stacks"])
    checks = {name: run([str(a) for a in argv])[0] for name, argv in p["checks"].items()}
    module.exit_json(
        changed=False,
        write=write,
        make=make,
        read=read,
        timers=timers,
        deployed=deployed,
        projects=projects,
        docker=docker_ok,
        checks=checks,
        compose=find_compose() if p["compose"] else None,
    )


if __name__ == "__main__":
    main()
