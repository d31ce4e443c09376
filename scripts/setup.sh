#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: Debian's chromium (it ships SwiftShader, a CPU Vulkan driver,
# so WebGPU runs without a GPU, and it is the browser the page tests drive), the Vulkan loader Dawn opens, and the
# npm packages from package-lock.json. Skips the apt step when both packages are already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s chromium libvulkan1 >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium libvulkan1 >/dev/null
fi
npm ci --no-audit --no-fund
