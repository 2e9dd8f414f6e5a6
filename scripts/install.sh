#!/usr/bin/env bash
# Installs the LLM OS Edge Runtime as the systemd service "llmos" on a Debian-based board
# (Raspberry Pi OS, JetPack / Ubuntu). Safe to run again: it upgrades the program, keeps the
# configuration and the state, and restarts the service.
#
#   npm ci                          # in the checkout: dependencies and the build (dist/)
#   sudo scripts/install.sh         # then install, enable and start
#   scripts/install.sh --dry-run    # print every step; needs no root and changes nothing
#
# Layout: program in /opt/llmos (root-owned, read-only to the service), configuration in
# /etc/llmos/config.yaml (created once from deploy/config.example.yaml, never overwritten),
# traces and state in /var/lib/llmos (owned by the llmos user), unit in /etc/systemd/system.
set -euo pipefail

PREFIX=/opt/llmos
ENABLE=1
DRY_RUN=0
NODE_BIN=""
SERVICE_USER=llmos
CONFIG_DIR=/etc/llmos
STATE_DIR=/var/lib/llmos
UNIT_FILE=/etc/systemd/system/llmos.service
# Groups the unit names in SupplementaryGroups= (a missing one fails the start) ...
REQUIRED_GROUPS=(gpio dialout)
# ... and groups the user joins when the board has them.
OPTIONAL_GROUPS=(i2c spi)
PROGRAM_FILES=(package.json package-lock.json dist boards schemas agents traces crystallized README.md)

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<EOF
Usage: scripts/install.sh [--prefix DIR] [--node PATH] [--no-enable] [--dry-run]

Installs the llmos systemd service from this checkout ($SRC).

  --prefix DIR   where the program goes (default /opt/llmos)
  --node PATH    the node binary the service runs (default: node on PATH; Node 20 or newer,
                 outside /home: the unit sets ProtectHome=yes)
  --no-enable    install the unit but do not enable or (re)start it
  --dry-run      print what would be done; needs no root and changes nothing
  -h, --help     this help

Run "npm ci" in the checkout first: it installs the dependencies and builds dist/.
EOF
}

die() { printf 'install.sh: %s\n' "$*" >&2; exit 2; }
say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

# Shell-quotes one word for display, leaving plain words readable.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# Runs a command, or prints it under --dry-run.
run() {
  if ((DRY_RUN)); then
    local word line='+'
    for word in "$@"; do line+=" $(quote "$word")"; done
    printf '%s\n' "$line"
  else
    "$@"
  fi
}

# Writes standard input to a file with a mode, owner and group, or prints what it would write.
write_file() {
  local dest=$1 mode=$2 owner=$3 group=$4 tmp
  if ((DRY_RUN)); then
    printf '+ write %s (mode %s, %s:%s)\n' "$dest" "$mode" "$owner" "$group"
    cat >/dev/null
    return
  fi
  tmp=$(mktemp)
  cat >"$tmp"
  install -m "$mode" -o "$owner" -g "$group" "$tmp" "$dest"
  rm -f "$tmp"
}

while (($#)); do
  case $1 in
    --prefix) [[ $# -ge 2 ]] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --node) [[ $# -ge 2 ]] || die "--node needs a path"; NODE_BIN=$2; shift 2 ;;
    --node=*) NODE_BIN=${1#*=}; shift ;;
    --no-enable) ENABLE=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# --- checks -----------------------------------------------------------------------------------
# PREFIX is removed and replaced on upgrade and substituted into the unit: keep it plain.
[[ $PREFIX =~ ^(/[A-Za-z0-9._-]+){2,}$ ]] || die "--prefix must be an absolute path of at least two plain components (like /opt/llmos), got: $PREFIX"
if ((!DRY_RUN)) && [[ $EUID -ne 0 ]]; then
  die "run as root (sudo $0), or with --dry-run to see the steps"
fi
if [[ ! -r /etc/debian_version ]]; then
  note "warning: not a Debian-based system; the steps assume Raspberry Pi OS or JetPack (Ubuntu)"
fi
if [[ -z $NODE_BIN ]]; then
  NODE_BIN=$(command -v node || true)
  if [[ -z $NODE_BIN ]]; then
    ((DRY_RUN)) || die "node not found: install Node.js 20 or newer system-wide (apt or NodeSource), or pass --node PATH"
    NODE_BIN=/usr/bin/node
  fi
fi
[[ $NODE_BIN =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "unusual node path: $NODE_BIN (pass --node PATH)"
# The path itself goes into the unit (it survives upgrades); where it leads must be readable.
case "$NODE_BIN:$(readlink -f "$NODE_BIN" || true)" in
  /home/* | /root/* | *:/home/* | *:/root/*) die "$NODE_BIN is in a home directory (nvm?); the service runs as $SERVICE_USER with ProtectHome=yes. Install Node.js 20+ system-wide (apt or NodeSource) or pass --node PATH" ;;
esac
if [[ -x $NODE_BIN ]]; then
  "$NODE_BIN" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    die "$NODE_BIN is Node $("$NODE_BIN" --version); the runtime needs Node 20 or newer"
elif ((!DRY_RUN)); then
  die "$NODE_BIN is not executable"
fi
if [[ ! -f $SRC/dist/bin/run-follower.js ]]; then
  ((DRY_RUN)) || die "$SRC/dist is missing: run \"npm ci\" (it builds) in $SRC first"
  note "warning: $SRC/dist is missing; run \"npm ci\" in $SRC before installing"
fi
if ((!DRY_RUN)) && ! command -v npm >/dev/null; then
  die "npm not found (it comes with Node.js)"
fi
HAVE_SYSTEMD=0
if [[ -d /run/systemd/system ]]; then HAVE_SYSTEMD=1; fi
mode_note=""
if ((DRY_RUN)); then mode_note=" [dry run: nothing is changed]"; fi

say "llmos: installing from $SRC to $PREFIX (node: $NODE_BIN)$mode_note"

# --- user and groups --------------------------------------------------------------------------
say "user $SERVICE_USER and its hardware groups"
for g in "${REQUIRED_GROUPS[@]}"; do
  # Jetson has no gpio group until one is created (its udev rules then hand the pins to it).
  getent group "$g" >/dev/null || run groupadd --system "$g"
done
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  run useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin --comment "LLM OS Edge Runtime" "$SERVICE_USER"
fi
groups_csv=$(IFS=,; printf '%s' "${REQUIRED_GROUPS[*]}")
for g in "${OPTIONAL_GROUPS[@]}"; do
  if getent group "$g" >/dev/null; then groups_csv+=",$g"; fi
done
run usermod --append --groups "$groups_csv" "$SERVICE_USER"
if [[ -r /etc/nv_tegra_release ]] && ! grep -qs 'gpio' /etc/udev/rules.d/*.rules /lib/udev/rules.d/*gpio*.rules; then
  note "Jetson: no udev rule gives the gpio group the GPIO lines; see \"Run as a service\" in README.md"
fi

# --- program ----------------------------------------------------------------------------------
# Built next to the old one and swapped in, so a failed download leaves the running install as it was.
say "program in $PREFIX"
staging="$PREFIX.new"
run rm -rf "$staging"
run install -d -m 0755 "$staging"
for f in "${PROGRAM_FILES[@]}"; do
  if [[ -e $SRC/$f ]]; then run cp -R "$SRC/$f" "$staging/"; fi
done
run rm -rf "$staging/dist/test"
# dist/ is already built: the "prepare" build (dev tools) is skipped, then "npm rebuild" runs the
# dependencies' own install scripts (native GPIO and serial bindings) for this board. Those are
# third-party code: they run as the unprivileged service user, never as root, and the result is
# handed to root afterwards.
run chown -R "$SERVICE_USER:$SERVICE_USER" "$staging"
# node-gyp builds the native bindings against the installed Node's own headers. The build user's
# HOME is fresh, so root's ~/.npmrc (where "nodedir" is often set) is not read: name the headers
# explicitly, or node-gyp would try to download them from outside the package registry.
NODE_DIR=$(npm config get nodedir 2>/dev/null || true)
if [[ -z $NODE_DIR || $NODE_DIR == undefined || $NODE_DIR == null ]]; then
  NODE_DIR=$(dirname "$(dirname "$(readlink -f "$NODE_BIN" || echo "$NODE_BIN")")")
fi
[[ -f $NODE_DIR/include/node/node_api.h ]] || note "warning: no Node.js headers in $NODE_DIR/include/node (install your distribution's Node.js headers, e.g. libnode-dev or nodejs-dev): building the GPIO and serial bindings may try to download them"
as_service() { run runuser -u "$SERVICE_USER" -- env HOME="$staging/.build-home" npm_config_cache="$staging/.build-home/npm-cache" npm_config_nodedir="$NODE_DIR" "$@"; }
as_service npm --prefix "$staging" ci --omit=dev --ignore-scripts --no-audit --no-fund
as_service npm --prefix "$staging" rebuild
run rm -rf "$staging/.build-home"
run chown -R root:root "$staging"
run chmod -R u=rwX,go=rX "$staging"
if [[ -e $PREFIX ]]; then
  run rm -rf "$PREFIX.old"
  run mv "$PREFIX" "$PREFIX.old"
fi
run mv "$staging" "$PREFIX"
run rm -rf "$PREFIX.old"

# --- configuration ----------------------------------------------------------------------------
say "configuration in $CONFIG_DIR"
run install -d -m 0755 "$CONFIG_DIR"
render_config() { sed -e "s#/opt/llmos#$PREFIX#g" "$SRC/deploy/config.example.yaml"; }
render_config | write_file "$CONFIG_DIR/config.example.yaml" 0644 root root
if [[ -e $CONFIG_DIR/config.yaml ]]; then
  note "keeping $CONFIG_DIR/config.yaml (compare with config.example.yaml after an upgrade)"
else
  # Readable by the service group only: it may hold MQTT credentials.
  render_config | write_file "$CONFIG_DIR/config.yaml" 0640 root "$SERVICE_USER"
fi

# --- state ------------------------------------------------------------------------------------
say "state in $STATE_DIR"
# Only missing directories are created (and handed to the service user): root never chowns a path
# the service could have replaced with a symlink (to /etc, say) since the last install.
for d in "$STATE_DIR" "$STATE_DIR/traces" "$STATE_DIR/crystallized" "$STATE_DIR/state" "$STATE_DIR/logs" "$STATE_DIR/agents" "$STATE_DIR/workspace"; do
  if [[ -L $d ]]; then
    die "$d is a symbolic link; refusing to touch it (remove it and run the installer again)"
  elif [[ -d $d ]]; then
    note "keeping $d"
  else
    run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$d"
  fi
done
# The shipped examples seed an empty directory once; learned traces are never touched.
for d in traces crystallized; do
  if [[ -z $(ls -A "$STATE_DIR/$d" 2>/dev/null) ]]; then
    run cp -R "$SRC/$d/." "$STATE_DIR/$d/"
    run chown -R "$SERVICE_USER:$SERVICE_USER" "$STATE_DIR/$d"
  else
    note "keeping $STATE_DIR/$d"
  fi
done

# --- unit -------------------------------------------------------------------------------------
say "systemd unit $UNIT_FILE"
render_unit() { sed -e "s#/opt/llmos#$PREFIX#g" -e "s#^ExecStart=/usr/bin/node #ExecStart=$NODE_BIN #" "$SRC/deploy/llmos.service"; }
render_unit | write_file "$UNIT_FILE" 0644 root root
note "$(render_unit | grep '^ExecStart=')"
if ((HAVE_SYSTEMD)) || ((DRY_RUN)); then
  run systemctl daemon-reload
fi
if command -v systemd-analyze >/dev/null && ((!DRY_RUN)); then
  systemd-analyze verify "$UNIT_FILE" || note "warning: systemd-analyze verify reported problems (above)"
fi

if ((!ENABLE)); then
  say "done; not enabled (--no-enable). Start with: sudo systemctl enable --now llmos"
elif ((!HAVE_SYSTEMD && !DRY_RUN)); then
  say "done; systemd is not running here (container or chroot): enable on the board with: sudo systemctl enable --now llmos"
else
  say "enable and (re)start llmos"
  run systemctl enable llmos.service
  run systemctl restart llmos.service
  say "done. Status: systemctl status llmos   Logs: journalctl -u llmos -f"
fi
