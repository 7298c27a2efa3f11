#!/usr/bin/env bash
# Regenerates every committed test fixture with real PyTorch (Debian's python3-torch: install it with
# `bash scripts/setup.sh --reference`). Some scripts check files senet wrote, so senet is built first.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p .
cd scripts/fixtures
for script in make_*.py; do
  /usr/bin/python3 "$script"
done
