#!/usr/bin/env bash
# Packs what bench/gpu-device.sh needs on a bare x86-64 GPU machine that has no Node.js and cannot download:
#   .gl/   the Vulkan loader and GL dispatch libraries as Debian .deb files (unpacked there with dpkg -x);
#   .gpu/  node.xz (this machine's node binary) and node_modules.tar.xz (the runtime dependencies only, with
#          the `webgpu` package's Linux x64 build alone; tfjs is left out, so the tfjs peers are unavailable there).
# Both folders are ignored by git (.git/info/exclude); copy them with the repository to the GPU machine.
# Run from the repository root on an x86-64 Debian/Ubuntu machine with npm dependencies installed.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
[ "$(uname -m)" = x86_64 ] || { echo "gpu-pack: this machine is $(uname -m); the GPU machine needs x86-64 builds" >&2; exit 2; }
exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
for p in /.gl/ /.gpu/; do grep -qxF "$p" "$exclude" 2>/dev/null || echo "$p" >>"$exclude"; done

# Vulkan loader and GL libraries, downloaded for amd64 (no install here).
mkdir -p .gl /tmp/amd64/partial
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update -qq
  (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

# Node.js and the runtime dependencies.
rm -rf .gpu && mkdir -p .gpu
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" >.gpu/node.xz
# The runtime dependencies' closure, read from the installed package.json files (hoisted layout).
mods=$(node -e '
  const fs = require("fs"), seen = new Set();
  const walk = (name) => {
    if (seen.has(name)) return;
    const dir = "node_modules/" + name;
    if (!fs.existsSync(dir + "/package.json")) return;
    seen.add(name);
    const pkg = JSON.parse(fs.readFileSync(dir + "/package.json", "utf8"));
    for (const d of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) walk(d);
  };
  // tsx (a devDependency): gpu-device.sh runs the CLI from the sources, so the PyTorch peer in bench/peers/ loads.
  for (const d of [...Object.keys(require("./package.json").dependencies), "tsx"]) walk(d);
  console.log([...seen].sort().map((n) => "node_modules/" + n).join("\n"));')
# node_modules may be a symbolic link (a worktree): archive through it (-h), and keep webgpu's linux-x64 build only.
tar -chJf .gpu/node_modules.tar.xz --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' $mods
du -ch .gl .gpu | tail -1
echo "gpu-pack: carry .gl and .gpu (64 MiB at most in all, with the working tree)"
