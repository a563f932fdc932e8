#!/usr/bin/env bash
# Installs what the benchmarks need from Debian: lz4 (verify speed), librsvg2-bin
# (PNG copy of the chart, optional), and the two peers, syslog-ng and rsyslog.
#
# syslog-ng-core and rsyslog conflict as Debian packages, so one is installed
# normally and the other is unpacked with `apt-get download` + `dpkg -x` into
# benchmarks/.peers/<package>/ (its shared-library dependencies installed with
# apt). Neither is ever run as the system service: run-all.mjs starts each in
# the foreground with its own config, pid file and socket.
#
# A package is only installed normally when installing cannot start its system
# service (no init system running, or a policy-rc.d that forbids it); otherwise
# both peers are unpacked privately. Idempotent; prints what it did. Needs root
# and apt-get; without them it says so and exits 0 (the benchmarks skip the
# peers that are missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers="$here/.peers"

say() { printf 'setup-peers: %s\n' "$*"; }

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "not root or no apt-get: installing nothing (missing peers are skipped)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive

updated=0
apt_update() { [ "$updated" = 1 ] || { apt-get update -qq; updated=1; }; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed'; }
apt_install() {
  local need=()
  for p in "$@"; do installed "$p" || need+=("$p"); done
  [ ${#need[@]} -eq 0 ] && return 0
  apt_update
  say "apt-get install ${need[*]}"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# Can a normal install start a system service here? invoke-rc.d asks
# /usr/sbin/policy-rc.d (exit 101 = forbidden) and, with no init system
# running and no policy, refuses by itself.
services_blocked() {
  if [ -x /usr/sbin/policy-rc.d ]; then
    local rc=0
    /usr/sbin/policy-rc.d rsyslog start >/dev/null 2>&1 || rc=$?
    [ "$rc" = 101 ] && return 0
  fi
  [ ! -d /run/systemd/system ] && ! pidof init >/dev/null 2>&1 && return 0
  return 1
}

# unpack PKG: apt-get download + dpkg -x into $peers/PKG, dependencies via apt.
unpack() {
  local pkg="$1" dir="$peers/$1"
  if [ -f "$dir/.unpacked" ]; then say "$pkg already unpacked in $dir"; return 0; fi
  apt_update
  # Its Depends, less the package it conflicts with and virtual alternatives.
  local deps
  deps=$(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$pkg" \
    | awk '/^ *(\|)?Depends: [^<]/ {print $2}' | grep -vx -e rsyslog -e syslog-ng-core -e libelogind0 | sort -u)
  # shellcheck disable=SC2086
  apt_install $deps
  rm -rf "$dir" && mkdir -p "$dir"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null)
  dpkg -x "$tmp"/"$pkg"_*.deb "$dir"
  rm -rf "$tmp"
  touch "$dir/.unpacked"
  say "unpacked $pkg into $dir"
}

apt_install lz4 librsvg2-bin

if services_blocked; then
  # One normally (whichever is already there, else rsyslog), the other unpacked.
  if installed syslog-ng-core; then
    say "syslog-ng-core installed system-wide"
    unpack rsyslog
  else
    apt_install rsyslog
    installed rsyslog && say "rsyslog installed system-wide"
    unpack syslog-ng-core
  fi
else
  say "a normal install could start a system service here: unpacking both peers privately"
  installed rsyslog || unpack rsyslog
  installed syslog-ng-core || unpack syslog-ng-core
fi

# A normal install must not have left a daemon running (policy forbade it).
for d in rsyslogd syslog-ng; do
  if pidof "$d" >/dev/null 2>&1; then say "WARNING: a system $d is running (pid $(pidof "$d")); the benchmark never starts or stops it"; fi
done
say "done"
