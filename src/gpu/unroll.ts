// Unrolls WGSL loops over the shape constants once they are known, e.g.
//   for (var j = 0u; j < H; j++) { BODY }   →   { let j = 0u; BODY } { let j = 1u; BODY } …
// With constant indices, private arrays such as h[H] and g[NPARAM] can live in registers; left as loops, some
// compilers (SwiftShader among them) keep them in memory, which measured 7× slower for H = 1. Innermost loops go
// first; unrolling stops at a source-size budget, beyond which the remaining loops stay loops (same results).

import { GpuError } from '../errors.ts';

const HEADER = /for \(var (\w+) = 0u; \1 < (\w+); \1\+\+\) \{/g;

/** Index of the `}` that closes the `{` at `open`. */
function matchingBrace(src: string, open: number): number {
  let depth = 0;
  for (let k = open; k < src.length; k++) {
    if (src[k] === '{') depth++;
    else if (src[k] === '}' && --depth === 0) return k;
  }
  throw new GpuError(`unroll: unbalanced braces after offset ${open}`);
}

/**
 * Unrolls `for (var X = 0u; X < NAME; X++) { … }` for every NAME in `trips`, innermost first, while the source
 * stays under `maxChars`. Loop bodies must not use `break` or `continue`.
 */
export function unrollLoops(src: string, trips: Record<string, number>, maxChars = DEFAULT_UNROLL_CHARS): string {
  const key = JSON.stringify([trips, maxChars, src]);
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const out = unroll(src, trips, maxChars);
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
  memo.set(key, out);
  return out;
}

/** The budget when a caller gives none (callers that know their adapter pass src/gpu/tuning.ts's). */
export const DEFAULT_UNROLL_CHARS = 256 * 1024;

/** Unrolled sources of recent calls: kernels are rebuilt per run, and unrolling a large shader takes milliseconds. */
const memo = new Map<string, string>();
const MEMO_SIZE = 64;

function unroll(src: string, trips: Record<string, number>, maxChars: number): string {
  let out = src;
  for (;;) {
    const candidates = [...out.matchAll(HEADER)].filter((m) => m[2] in trips);
    // The last header in the text has no other candidate loop inside it.
    const m = candidates.at(-1);
    if (!m) return out;
    const open = m.index + m[0].length - 1;
    const close = matchingBrace(out, open);
    const body = out.slice(open + 1, close);
    if (/\b(break|continue)\b/.test(body)) throw new GpuError(`unroll: the loop over ${m[2]} uses break/continue`);
    const trip = trips[m[2]];
    const unrolled = Array.from({ length: trip }, (_, v) => `{ let ${m[1]} = ${v}u;${body}}`).join(' ');
    if (out.length - (close + 1 - m.index) + unrolled.length > maxChars) {
      // Too big: keep this loop as a loop by writing its bound so the header no longer matches. (Loops around it
      // may still unroll, each copy holding this loop.)
      out = out.slice(0, m.index) + m[0].replace(`< ${m[2]};`, `< (${m[2]});`) + out.slice(open + 1);
      continue;
    }
    out = out.slice(0, m.index) + unrolled + out.slice(close + 1);
  }
}
