#!/usr/bin/env bash
# The farm on one machine: setup (idempotent), services, scheduler, worker, dashboard; then the
# probe image is submitted and booted, and the outcome and the dashboard URL are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/farm.mjs "$@"
