#!/usr/bin/env bash
# Regenerates every committed test fixture with real PyTorch (Debian's python3-torch).
set -euo pipefail
cd "$(dirname "$0")/fixtures"
for script in make_*.py; do
  /usr/bin/python3 "$script"
done
