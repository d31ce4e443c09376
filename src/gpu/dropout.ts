// Splices inter-layer dropout's mask (shaders/common/dropout.wgsl, the integer hash of src/dropout.ts) into a
// kernel's source at its one `// @dropout` line.

import { GpuError } from '../errors.ts';
import { shaders } from '#shaders';

const MARKER = /^[ \t]*\/\/ @dropout[ \t]*$/gm;

/** `source` with its `// @dropout` line replaced by shaders/common/dropout.wgsl. */
export function withDropout(label: string, source: string): string {
  const marks = source.match(MARKER) ?? [];
  if (marks.length !== 1)
    throw new GpuError(
      `${label}: expected exactly one "// @dropout" line to splice the dropout mask into, found ${marks.length}`,
    );
  return source.replace(MARKER, () => shaders.dropout.trimEnd());
}
