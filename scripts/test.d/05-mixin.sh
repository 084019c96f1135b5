#!/usr/bin/env bash
# The committed alerts/*.yml and dashboards/*.json are what the mixin in
# mixin/ generates: regenerated, they do not differ by a byte. The example
# of overriding the mixin's configuration (docs/mixin.md) compiles, its
# rules pass promtool, and its overrides reach the rules and the dashboards.
set -euo pipefail
cd "$(dirname "$0")/../.."

mixin/generate.sh --check

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^```jsonnet/ {n++; if (n == 1) {block = 1; next}}
     block && /^```/ {exit}
     block {print}' docs/mixin.md >"$work/site.jsonnet"
[ -s "$work/site.jsonnet" ] || { echo "docs/mixin.md: no jsonnet example" >&2; exit 1; }
mkdir "$work/out"
ln -s "$PWD/mixin" "$work/mixin"
jsonnet -S -m "$work/out" "$work/site.jsonnet" >/dev/null
promtool check rules "$work/out/appliance_exporter.rules.yml"
grep -q 'job=\\"appliances\\"' "$work/out/appliance_exporter.rules.yml" ||
  { echo "docs/mixin.md example: exporterSelector did not reach the rules" >&2; exit 1; }
grep -q '"refresh": "5m"' "$work/out/fleet.json" ||
  { echo "docs/mixin.md example: dashboardRefresh did not reach the dashboards" >&2; exit 1; }
echo "docs/mixin.md example: $(ls "$work/out" | wc -l) files"
