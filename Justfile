# Everyday operator recipes. Each one calls `ahl`; run `just` to list them.

set dotenv-load := true
set positional-arguments := false

# `ahl` from this checkout; set AHL=ahl to use an installed one.
ahl := env_var_or_default("AHL", "node " + justfile_directory() + "/packages/cli/dist/bin.js")

# List the recipes
default:
    @just --list --unsorted

# Install tools and dependencies, build ahl (idempotent)
bootstrap:
    bash scripts/bootstrap

# Check every lab file (reads local files only)
validate:
    {{ahl}} validate

# Refresh the JSON Schemas editors use
schema:
    {{ahl}} schema --write

# L0: read-only checks of the Proxmox API, token, nodes, bridges, storage and templates
l0-runway:
    {{ahl}} runway

# L1: build the template of an image (e.g. ubuntu-noble)
l1-image-build NAME FORCE="":
    {{ahl}} image build {{NAME}} {{ if FORCE != "" { "--force" } else { "" } }}

# L1: move a channel to a template version
l1-image-promote NAME VERSION CHANNEL="stable":
    {{ahl}} image promote {{NAME}} {{VERSION}} --channel {{CHANNEL}}

# L1: move a channel back to its previous version
l1-image-rollback NAME CHANNEL="stable":
    {{ahl}} image rollback {{NAME}} --channel {{CHANNEL}}

# L1: declared images, templates, channels and orphans
l1-images:
    {{ahl}} image list

# L1: remove old templates no channel and no VM uses, keeping the KEEP newest (APPROVE=1 to act)
l1-image-prune NAME KEEP="3" APPROVE="":
    {{ahl}} image prune {{NAME}} --keep {{KEEP}} {{ if APPROVE != "" { "--approve" } else { "" } }}

# L1: the Ubuntu template (the example lab's ubuntu-noble image)
l1-ubuntu-template IMAGE="ubuntu-noble" FORCE="":
    {{ahl}} image build {{IMAGE}} {{ if FORCE != "" { "--force" } else { "" } }}

# L1: a NoCloud seed ISO for a bare-metal host (PRINT=1 shows the documents instead)
l1-cloud-init HOST PRINT="":
    {{ahl}} image seed {{HOST}} {{ if PRINT != "" { "--print" } else { "" } }}

alias l1-arch-cloud-init := l1-cloud-init

# L1: capture an appliance's boot disk (HAOS, TrueNAS)
l1-capture TARGET:
    {{ahl}} image capture {{TARGET}}

# L1: capture the Home Assistant appliance's boot disk to the capture store
l1-haos-capture HOST="homeassistant-01":
    {{ahl}} image capture {{HOST}}

# L1: capture the TrueNAS appliance's boot disk to the capture store
l1-truenas-capture HOST="nas-01":
    {{ahl}} image capture {{HOST}}

# L1: make an appliance template from its newest capture
l1-restore-capture NAME:
    {{ahl}} image restore-capture {{NAME}}

# L1: the Home Assistant template, from its newest capture
l1-haos-template IMAGE="haos":
    {{ahl}} image restore-capture {{IMAGE}}

# L1: the TrueNAS template, from its newest capture
l1-truenas-template IMAGE="truenas":
    {{ahl}} image restore-capture {{IMAGE}}

# L2: what Terraform would do to the VMs of a persona or host (all when empty)
l2-plan TARGET="":
    {{ahl}} apply {{TARGET}}

# L2: plan and apply that plan with Terraform (APPROVE=1 to act)
l2-apply TARGET="" APPROVE="":
    {{ahl}} apply {{TARGET}} {{ if APPROVE != "" { "--approve" } else { "" } }}

# L2: destroy one host's VM (APPROVE=1 to act)
l2-destroy HOST APPROVE="":
    {{ahl}} destroy {{HOST}} {{ if APPROVE != "" { "--approve" } else { "" } }}

# L2: attach the declared passthrough disks to VMs, as root@pam (APPROVE=1 to act)
l2-passthrough TARGET="" APPROVE="":
    {{ahl}} passthrough {{TARGET}} {{ if APPROVE != "" { "--approve" } else { "" } }}

# L2: the nas persona's passthrough disks (TrueNAS's pool), as root@pam (APPROVE=1 to act)
l3-truenas TARGET="nas" APPROVE="":
    {{ahl}} passthrough {{TARGET}} {{ if APPROVE != "" { "--approve" } else { "" } }}

# L3: converge the OS of a persona or host, optionally only some tags
l3-converge TARGET="" TAGS="":
    {{ahl}} converge system {{TARGET}} {{ if TAGS != "" { "--tags " + TAGS } else { "" } }}

# L3: report OS drift without changing anything (ansible --check --diff)
l3-check TARGET="":
    {{ahl}} converge system {{TARGET}} --check

# Reboot a persona, group or host, rolling, only where a reboot is pending (dry run unless APPROVE=1)
l3-reboot TARGET APPROVE="":
    {{ahl}} power reboot {{TARGET}} --if-needed {{ if APPROVE != "" { "--approve" } else { "" } }}

# Shut a persona, group or host down, rolling, one host at a time (dry run unless APPROVE=1)
l3-shutdown TARGET APPROVE="":
    {{ahl}} power shutdown {{TARGET}} {{ if APPROVE != "" { "--approve" } else { "" } }}

# Start a persona, group or host, rolling, each healthy before the next (dry run unless APPROVE=1)
l3-start TARGET APPROVE="":
    {{ahl}} power start {{TARGET}} {{ if APPROVE != "" { "--approve" } else { "" } }}

# L4: converge the Compose stacks of a persona or host, optionally one stack
l4-converge TARGET="" STACK="":
    {{ahl}} converge workload {{TARGET}} {{ if STACK != "" { "--stack " + STACK } else { "" } }}

# L4: back up a host's data now
backup HOST:
    {{ahl}} backup {{HOST}}

# L4: restore a host's data (latest backup, or SNAPSHOT; APPROVE=1 overwrites non-empty data)
restore HOST SNAPSHOT="" APPROVE="":
    {{ahl}} restore {{HOST}} {{ if SNAPSHOT != "" { "--snapshot " + SNAPSHOT } else { "" } }} {{ if APPROVE != "" { "--approve" } else { "" } }}

# L0→L4 for a target, stopping at the first layer that fails (plan only unless APPROVE=1)
up TARGET="" APPROVE="":
    {{ahl}} up {{TARGET}} {{ if APPROVE != "" { "--approve" } else { "" } }}

# What `up` would do, layer by layer (FORMAT=markdown for a review comment)
plan TARGET="" FORMAT="text":
    {{ahl}} plan {{TARGET}} --format {{FORMAT}}

# Destroy and rebuild a host from intent, restoring its data (APPROVE=1 to act, RESUME=1 to carry on)
rebuild HOST APPROVE="" RESUME="":
    {{ahl}} rebuild {{HOST}} {{ if RESUME != "" { "--resume" } else { "" } }} {{ if APPROVE != "" { "--approve" } else { "" } }}

# The whole lab at a glance (one Proxmox API call, plus what this machine remembers)
status TARGET="":
    {{ahl}} status {{TARGET}}

# Drift across layers (template lag, OS and stacks), each with its cause and fix
drift TARGET="":
    {{ahl}} drift {{TARGET}}

# Drift, then put back what is safe (VM settings, converges); the plan unless APPROVE=1
reconcile TARGET="" APPROVE="":
    {{ahl}} reconcile {{TARGET}} {{ if APPROVE != "" { "" } else { "--plan" } }}

# Intent changes between Git refs per host and layer (BASE: last applied commit, HEAD: working tree)
diff BASE="" HEAD="" FORMAT="text":
    {{ahl}} diff {{BASE}} {{HEAD}} --format {{FORMAT}}

# What every layer would apply, without any API, secret or host (printed, or into OUT)
render OUT="":
    {{ahl}} render {{ if OUT != "" { "--out " + OUT } else { "" } }}

# The lab as a Mermaid diagram (FORMAT=dot for Graphviz)
graph FORMAT="mermaid":
    {{ahl}} graph --format {{FORMAT}}

# Start the local lab (simulated Proxmox with real QEMU guests; root)
lab-up:
    {{ahl}} lab up

# Is the local lab up, and which guests run in it
lab-status:
    {{ahl}} lab status

# Stop the local lab and remove everything it made
lab-down:
    {{ahl}} lab down

# Run every test tier
test:
    pnpm test:all
