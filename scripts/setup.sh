#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: Debian's chromium (it ships SwiftShader, a CPU Vulkan driver,
# so WebGPU runs without a GPU, and it is the browser the page tests drive), Mesa's Vulkan drivers (lavapipe, the
# second CPU Vulkan driver; Dawn needs Mesa 25, which Debian 12 has in bookworm-backports), the Vulkan loader Dawn
# opens, Debian's python3-torch (PyTorch: an independent implementation the tests compare against, and a benchmark
# peer), and the npm packages from package-lock.json. Skips apt when everything is already installed and new
# enough. Safe to run again. docs/adapters.md says more about the two software adapters.
set -euo pipefail
cd "$(dirname "$0")/.."

# Dawn refuses lavapipe from Mesa 22.3 (Debian 12's own); Mesa 25 works.
MIN_MESA=25

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
mesa_major() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^([0-9]+:)?([0-9]+).*/\2/'; }
mesa_ok() { installed mesa-vulkan-drivers && [ "$(mesa_major)" -ge "$MIN_MESA" ] 2>/dev/null; }

if ! installed chromium || ! installed libvulkan1 || ! mesa_ok || ! installed python3-torch; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  codename=""
  if [ -r /etc/os-release ]; then codename="$(. /etc/os-release && echo "${ID:-}:${VERSION_CODENAME:-}")"; fi
  mesa_from=()
  if [ "$codename" = "debian:bookworm" ]; then
    # Debian 12: Mesa 25 from bookworm-backports. Add the suite unless some apt source already names it.
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    mesa_from=(-t bookworm-backports)
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium libvulkan1 python3-torch >/dev/null
  $SUDO apt-get install -y -qq "${mesa_from[@]}" mesa-vulkan-drivers >/dev/null
  if ! mesa_ok; then
    echo "setup.sh: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null) is older than Mesa $MIN_MESA: the lavapipe adapter will not work (SwiftShader still does)" >&2
  fi
fi
# onnxruntime-node (a test peer) would fetch extra files from outside the registry; its CPU binary is in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
