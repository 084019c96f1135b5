#!/usr/bin/env bash
# Generates the rule files of alerts/ and the dashboards of dashboards/ from
# the mixin (needs jsonnet). With --check, generates them into a temporary
# folder instead and fails on any difference from the committed files; files
# the mixin does not generate are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/alerts" "$out/dashboards"
jsonnet -S -m "$out/alerts" mixin/alerts.jsonnet >/dev/null
jsonnet -S -m "$out/dashboards" mixin/dashboards.jsonnet >/dev/null

if [ "${1:-}" = "--check" ]; then
  status=0
  for generated in "$out"/alerts/* "$out"/dashboards/*; do
    [ -e "$generated" ] || continue
    committed=${generated#"$out"/}
    if ! diff -u "$committed" "$generated"; then
      echo "$committed differs from what mixin/ generates: run mixin/generate.sh" >&2
      status=1
    fi
  done
  exit "$status"
fi
for generated in "$out"/alerts/* "$out"/dashboards/*; do
  [ -e "$generated" ] || continue
  cp "$generated" "${generated#"$out"/}"
  echo "generated ${generated#"$out"/}"
done
