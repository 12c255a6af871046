# Sourced by scripts/bootstrap and scripts/local-lab-demo: how a step that needs root gets it.
# A script run as root does it directly (a machine where root is the only user often has no sudo);
# another user goes through sudo when it is installed; otherwise the script stops and says which
# step needs root, why, and what to do. The caller defines say().

# as_root STEP WHY OTHERWISE COMMAND [ARG…]: runs COMMAND as root for STEP, or exits 2 naming
# STEP, WHY it needs root, and OTHERWISE (another way on, may be empty).
as_root() {
  local step=$1 why=$2 otherwise=$3
  shift 3
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    say "$step needs root ($why): running it with sudo"
    sudo -- "$@"
  else
    say "$step needs root ($why), and this user is not root and sudo is not installed"
    say "run it as root (for example: su -c 'bash $0'), or install sudo${otherwise:+, or $otherwise}"
    exit 2
  fi
}
