#!/usr/bin/env bash
# Generates the snmp_exporter configuration snmp/snmp.yml from
# snmp/generator.yml and the MIBs of snmp/mibs/, with Debian's
# prometheus-snmp-generator (0.21) or the generator named by $GENERATOR.
#
#   snmp/generate.sh            # writes snmp/snmp.yml
#   snmp/generate.sh OUT.yml    # writes OUT.yml instead
#
# raidDescription is accessible-for-notify in PULSESECURE-PSG-MIB, and the
# generator makes no metric of such objects. Gateways answer a GET of it
# all the same (check_nwc_health reads it so), so the generator is given a
# copy of the MIB in which that one object is read-only; the shipped MIB
# stays as published.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "${1:-$here/snmp.yml}")"
generator="${GENERATOR:-prometheus-snmp-generator}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/mibs"
cp "$here/mibs/SNMPv2-SMI" "$here/mibs/RFC1155-SMI" "$work/mibs/"
sed '/^raidDescription OBJECT-TYPE/,/::=/ s/MAX-ACCESS  accessible-for-notify/MAX-ACCESS  read-only/' \
  "$here/mibs/PULSESECURE-PSG-MIB" > "$work/mibs/PULSESECURE-PSG-MIB"
changed="$(diff "$here/mibs/PULSESECURE-PSG-MIB" "$work/mibs/PULSESECURE-PSG-MIB" | grep -c '^>' || true)"
if [ "$changed" != 1 ]; then
  echo "snmp/mibs/PULSESECURE-PSG-MIB: expected to make exactly raidDescription read-only, changed $changed lines" >&2
  exit 1
fi

cp "$here/generator.yml" "$work/generator.yml"
(cd "$work" && MIBDIRS="$work/mibs" "$generator" --fail-on-parse-errors generate -o "$out")
