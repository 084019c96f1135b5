#!/usr/bin/env bash
# Runs every test of appliance_exporter, installing what the tests need on
# a fresh Debian machine first (promtool and a real Prometheus server from
# Debian's `prometheus` package, amtool and a real Alertmanager from
# `prometheus-alertmanager`, systemd-analyze, snmp_exporter and its
# generator from `prometheus-snmp-exporter`, an SNMP agent simulator from
# `snmpsim`, jsonnet for the mixin, and openssl for a TLS 1.1 client the
# exporter must refuse).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v prometheus-snmp-exporter >/dev/null 2>&1 || missing+=(prometheus-snmp-exporter)
command -v prometheus-snmp-generator >/dev/null 2>&1 || missing+=(prometheus-snmp-exporter)
command -v snmpsimd >/dev/null 2>&1 || missing+=(snmpsim)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v jsonnet >/dev/null 2>&1 || missing+=(jsonnet)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${missing[@]}" | sort -u)
fi
# Debian's packages may start a Prometheus, an Alertmanager and an
# snmp_exporter of their own; the tests start theirs.
export APPLIANCE_EXPORTER_REQUIRE_TOOLS=1

echo "== cargo fmt --check"
cargo fmt --all -- --check
# cargo fmt follows `mod` lines, and the collectors' modules are declared
# by a macro (`crate::collector::declare`, called in each
# `src/appliances/*/mod.rs`), so every source file is checked by name too.
find build.rs src tests benches -name '*.rs' -print0 | xargs -0 rustfmt --edition 2024 --check
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --locked --all-targets
for step in scripts/test.d/*.sh; do
  [ -e "$step" ] || continue
  echo "== $step"
  bash "$step"
done
echo "== all tests passed"
