#!/usr/bin/env bash
# The whole test suite, on a fresh machine or this one: setup (idempotent), then every spec.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/run-tests.mjs "$@"
