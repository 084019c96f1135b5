#!/usr/bin/env bash
# The alerting rules: valid for Prometheus (promtool check rules), and each
# alert fires and stays quiet as its unit tests say (promtool test rules).
set -euo pipefail
cd "$(dirname "$0")/../.."

promtool check rules alerts/*.yml
promtool test rules alerts/tests/*.test.yml
