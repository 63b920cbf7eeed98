#!/usr/bin/env bash
# The main job: install what is missing, then run the sample pipeline on an
# engine on this host (see scripts/demo.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
node scripts/demo.mjs
