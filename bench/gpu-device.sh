#!/usr/bin/env bash
# The benchmark on a real GPU machine (for example an NVIDIA H200, running as root in a copy
# of this repository): unpacks the carried Vulkan loader (.gl/*.deb), Node.js and node_modules (.gpu/, made by
# bench/gpu-pack.sh), points the Vulkan loader at the NVIDIA driver, and runs the benchmark at the target sizes
# (N=65536, T=64, H=1,16,64,256) with the CPU peers on a low budget, within about 8 minutes. Writes JSON, Markdown,
# the log and the environment to $OUT (default ./bench-out). See docs/benchmarks.md.
#   BUDGET   seconds per peer and cell (default 3)      PEERS   CPU peers (default torch-cpu,cpu-ref)
#   LIMIT    seconds for the whole benchmark (default 420)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/bench-out}
BUDGET=${BUDGET:-3}
PEERS=${PEERS:-torch-cpu,cpu-ref}
LIMIT=${LIMIT:-420}
mkdir -p "$OUT"
env_log="$OUT/environment.txt"

# The Vulkan loader (unpacked onto /, as the machine's own notes prescribe).
if ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi

# Node.js and the dependencies.
NODE=$(command -v node || true)
if [ -f .gpu/node.xz ]; then
  mkdir -p /tmp/gpu-node/bin
  xz -dc .gpu/node.xz >/tmp/gpu-node/bin/node && chmod +x /tmp/gpu-node/bin/node
  NODE=/tmp/gpu-node/bin/node
  export PATH=/tmp/gpu-node/bin:$PATH
fi
if [ -f .gpu/node_modules.tar.xz ]; then
  rm -rf node_modules # a symbolic link to nowhere when the repository came from a worktree
  tar -xJf .gpu/node_modules.tar.xz
fi
[ -n "$NODE" ] || { echo "gpu-device: no node (run bench/gpu-pack.sh here and carry .gpu)" | tee -a "$env_log" >&2; exit 1; }

{
  echo "date: $(date -u +%FT%TZ)"; uname -a
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1 || true
  echo "node: $("$NODE" --version)"; python3 -c 'import torch; print("torch", torch.__version__)' 2>&1 || true
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"; ldconfig -p | grep -E 'libvulkan|libEGL_nvidia|libGLX_nvidia' || true
  echo "cpus: $(nproc)"; uptime
} >"$env_log" 2>&1

# The CLI from the sources through tsx (bin/ runs dist/, which plain Node runs without the TypeScript peers).
cmd=("$NODE" --import tsx src/cli/main.ts bench --adapter hardware --workloads seed,h16,h64,h256 --n 65536 --t 64
  --repeats 5 --budget "$BUDGET" --peers "$PEERS" --json "$OUT/h200.json" --markdown "$OUT/h200.md")
echo "command: ${cmd[*]}" >>"$env_log"
start=$(date +%s)
timeout --signal=INT --kill-after=20 "$LIMIT" "${cmd[@]}" 2>&1 | tee "$OUT/bench.log"
rc=${PIPESTATUS[0]}
echo "exit $rc after $(( $(date +%s) - start )) s" | tee -a "$env_log"
exit "$rc"
