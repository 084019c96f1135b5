#!/usr/bin/env bash
# The committed alerts/*.yml and dashboards/*.json are what the mixin in
# mixin/ generates: regenerated, they do not differ by a byte. The README's
# example of overriding the mixin's configuration compiles, its rules pass
# promtool, and its overrides reach the rules and the dashboards.
set -euo pipefail
cd "$(dirname "$0")/../.."

mixin/generate.sh --check

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^## Monitoring mixin/ {on = 1} /^## Alert runbook/ {on = 0}
     on && /^```jsonnet/ {n++; if (n == 1) {block = 1; next}}
     block && /^```/ {exit}
     block {print}' README.md >"$work/site.jsonnet"
[ -s "$work/site.jsonnet" ] || { echo "README: no jsonnet example under Monitoring mixin" >&2; exit 1; }
mkdir "$work/out"
ln -s "$PWD/mixin" "$work/mixin"
jsonnet -S -m "$work/out" "$work/site.jsonnet" >/dev/null
promtool check rules "$work/out/appliance_exporter.rules.yml"
grep -q 'job=\\"appliances\\"' "$work/out/appliance_exporter.rules.yml" ||
  { echo "README example: exporterSelector did not reach the rules" >&2; exit 1; }
grep -q '"refresh": "5m"' "$work/out/fleet.json" ||
  { echo "README example: dashboardRefresh did not reach the dashboards" >&2; exit 1; }
echo "README mixin example: $(ls "$work/out" | wc -l) files"
