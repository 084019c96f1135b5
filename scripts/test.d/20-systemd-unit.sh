#!/usr/bin/env bash
# The systemd unit: `systemd-analyze verify` finds nothing to report,
# `systemd-analyze security --offline=true` rates its exposure at most
# MAX_EXPOSURE, and it sets LimitNOFILE to at least MIN_NOFILE (the
# process cannot raise its own limit under SystemCallFilter=~@resources).
set -euo pipefail
cd "$(dirname "$0")/../.."

unit=systemd/appliance_exporter.service
installed_binary=/usr/local/bin/appliance_exporter
MAX_EXPOSURE=1.5
# What the default limits need for any fleet (at most 256 upstream
# sockets), with room for scrapers, listeners and the process' own files.
MIN_NOFILE=1024

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# verify insists that ExecStart's binary exists. The unit names where it is
# installed, so verify a copy in which only that path is replaced by the
# freshly built binary; every other line is the shipped unit's.
cargo build --locked --quiet --bin appliance_exporter
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
binary="$target_dir/debug/appliance_exporter"
[ -x "$binary" ] || { echo "no binary at $binary" >&2; exit 1; }
grep -q "^ExecStart=$installed_binary " "$unit" || { echo "$unit: ExecStart is not $installed_binary" >&2; exit 1; }

# verify exits 0 on many problems it reports (unknown keys, bad values), so
# any output at all counts as a failure.
verify() {
  local copy="$work/$(basename "$unit")" out
  sed "s#^ExecStart=$installed_binary #ExecStart=$binary #" "$1" > "$copy"
  out="$(systemd-analyze verify "$copy" 2>&1)" || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
}

# The check must be able to fail: a unit with a misspelt setting is rejected.
sed 's/^ProtectSystem=strict$/ProtectSystem=stricter/' "$unit" > "$work/broken.service"
if verify "$work/broken.service" >/dev/null; then
  echo "systemd-analyze verify did not notice a bad setting: the check is broken" >&2
  exit 1
fi

verify "$unit"
echo "systemd-analyze verify $unit: ok"

# LimitNOFILE= is set once, to a number of at least MIN_NOFILE (soft and
# hard alike when written as one number).
nofile() {
  local values
  values="$(sed -n 's/^LimitNOFILE=\([0-9][0-9]*\)$/\1/p' "$1")"
  [ "$(printf '%s\n' "$values" | grep -c .)" = 1 ] || { echo "$1: no single numeric LimitNOFILE=" >&2; return 1; }
  [ "$values" -ge "$MIN_NOFILE" ] || { echo "$1: LimitNOFILE=$values is below $MIN_NOFILE" >&2; return 1; }
  echo "$values"
}
# The check must be able to fail: a unit without the setting is rejected.
grep -v '^LimitNOFILE=' "$unit" > "$work/no-nofile.service"
if nofile "$work/no-nofile.service" >/dev/null 2>&1; then
  echo "a unit without LimitNOFILE passed the check: the check is broken" >&2
  exit 1
fi
echo "$unit: LimitNOFILE=$(nofile "$unit") (at least $MIN_NOFILE)"

report="$(systemd-analyze security --offline=true "$unit" 2>&1)" || { echo "$report"; exit 1; }
exposure="$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')"
[ -n "$exposure" ] || { echo "no exposure level in:"; echo "$report"; exit 1; } >&2
if awk -v e="$exposure" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 <= max + 0) }'; then
  echo "systemd-analyze security $unit: exposure $exposure (at most $MAX_EXPOSURE)"
else
  printf '%s\n' "$report" | grep -v '✓' >&2
  echo "$unit: exposure $exposure is above $MAX_EXPOSURE" >&2
  exit 1
fi
