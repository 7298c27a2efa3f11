#!/usr/bin/env bash
# One-step set-up on Debian/Ubuntu: installs libtorch and OpenBLAS from the distribution when missing
# (as root, or through sudo), then the npm packages, the native engine (node-gyp) and the TypeScript build.
# Nothing is downloaded from outside Debian and the npm registry.
#   bash scripts/setup.sh              the engine and senet
#   bash scripts/setup.sh --reference  also Debian's python3-torch, for benchmarks against PyTorch and
#                                      for regenerating test fixtures
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the report tests open the HTML report in a real headless browser. python3-onnx: the export
# tests check exported files with ONNX's own checker (scripts/fixtures/check_onnx.py). libjpeg-dev:
# libjpeg-turbo's headers for the native JPEG decoder (the same name on Debian, where it pulls in
# libjpeg62-turbo-dev, and on Ubuntu, where it pulls in libjpeg-turbo8-dev). libgloo-dev: Gloo's headers,
# which libtorch's c10d Gloo process group needs (torch.distributed). python3-torch: the distributed tests
# run a PyTorch process in the same process group as a senet one.
packages=(libtorch-dev libgloo-dev libopenblas0-pthread libjpeg-dev chromium python3-onnx python3-torch)
[[ "${1:-}" == "--reference" ]] && packages+=(python3-pil python3-torchvision)
command -v g++ >/dev/null || packages+=(g++)
command -v make >/dev/null || packages+=(make)
command -v python3 >/dev/null || packages+=(python3)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "senet setup: installing ${missing[*]} with apt-get"
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "senet setup: need root or sudo to run: apt-get install ${missing[*]}" >&2; exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v node >/dev/null || (( $(node -p 'process.versions.node.split(".")[0]') < 20 )); then
  echo "senet setup: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# Build the native addon against the system's Node headers when they are installed (no header download).
if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node_api.h ]]; then export npm_config_nodedir=/usr; fi
npm ci --no-audit --no-fund
npm run build
echo "senet setup: done"
