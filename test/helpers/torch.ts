// The Python with PyTorch that the PyTorch cross-checks run (Debian's python3-torch, which scripts/setup.sh
// installs): WEBGPU_RNN_PYTHON, /usr/bin/python3 or python3 on the PATH, the first that imports torch. Without one
// the checks are skipped with a printed notice, except in CI (CI=true), where that is a failure.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function findPython(): string | null {
  for (const p of [process.env.WEBGPU_RNN_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!p || (p.startsWith('/') && !existsSync(p))) continue;
    const r = spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return null;
}

/** The Python to run, or null (skip, saying what `file` skips); throws in CI when there is none. */
export function torchPython(file: string, skips: string): string | null {
  const py = findPython();
  if (!py && process.env.CI === 'true')
    throw new Error('python3 with torch is missing (scripts/setup.sh installs python3-torch)');
  if (!py) console.warn(`${file}: python3 with torch not found; skipping ${skips}`);
  return py;
}
