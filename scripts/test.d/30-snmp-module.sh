#!/usr/bin/env bash
# The snmp_exporter module: snmp/snmp.yml is what snmp/generate.sh makes of
# snmp/generator.yml and snmp/mibs/ with the generator installed here
# (Debian's prometheus-snmp-generator 0.21), and snmp_exporter accepts it.
set -euo pipefail
cd "$(dirname "$0")/../.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

snmp/generate.sh "$work/snmp.yml" 2> "$work/generate.log" || { cat "$work/generate.log" >&2; exit 1; }
if ! diff -u snmp/snmp.yml "$work/snmp.yml"; then
  echo "snmp/snmp.yml is not what snmp/generate.sh makes of snmp/generator.yml: run snmp/generate.sh and commit the result" >&2
  exit 1
fi
echo "snmp/snmp.yml: regenerated identically"

# The comparison must be able to fail: a changed generator.yml changes the output.
mkdir "$work/changed"
cp -r snmp/mibs snmp/generate.sh "$work/changed/"
sed 's/^      - iveCpuUtil .*$//' snmp/generator.yml > "$work/changed/generator.yml"
"$work/changed/generate.sh" "$work/changed.yml" 2>/dev/null
if cmp -s snmp/snmp.yml "$work/changed.yml"; then
  echo "dropping iveCpuUtil from generator.yml did not change the output: the check is broken" >&2
  exit 1
fi

prometheus-snmp-exporter --dry-run --config.file=snmp/snmp.yml 2>&1 | tail -1
