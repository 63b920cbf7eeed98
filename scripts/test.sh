#!/usr/bin/env bash
# The test command: install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
# Lint and format check first (zero diagnostics is the bar), then the layer order (scripts/layers.mjs).
npm run lint
node scripts/test.mjs "$@"
