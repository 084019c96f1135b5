#!/usr/bin/env bash
# The committed alerts/*.yml and dashboards/*.json are what the mixin in
# mixin/ generates: regenerated, they do not differ by a byte.
set -euo pipefail
cd "$(dirname "$0")/../.."

mixin/generate.sh --check
