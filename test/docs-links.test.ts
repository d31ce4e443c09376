// Every relative link in README.md and docs/*.md resolves: the file or folder exists inside the repository, and a
// `#fragment` into a Markdown file names one of its headings (GitHub's heading ids). Also: every page in docs/ is
// linked from the README. The checker is run first on a fixture with known broken links, so it is shown to fail.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The text with fenced code blocks blanked out (line numbers kept). */
function withoutFences(text: string): string {
  let fence: string | null = null;
  return text
    .split('\n')
    .map((line) => {
      const m = /^\s*(`{3,}|~{3,})/.exec(line);
      if (fence === null && m) {
        fence = m[1][0].repeat(m[1].length);
        return '';
      }
      if (fence !== null) {
        if (line.trim().startsWith(fence)) fence = null;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** GitHub's id for each heading of a Markdown text, duplicates numbered -1, -2, … */
export function headingIds(text: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(text).split('\n')) {
    const m = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const plain = m[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
      .replace(/<[^>]+>/g, ''); // inline HTML
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

/** Link targets of a Markdown text (inline links, images, reference definitions), outside code. */
export function linkTargets(text: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  withoutFences(text)
    .split('\n')
    .forEach((raw, k) => {
      const line = raw.replace(/(`+)[^`]*?\1/g, ''); // inline code spans
      for (const m of line.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+["'(][^)]*)?\)/g))
        out.push({ target: m[1].replace(/^<|>$/g, ''), line: k + 1 });
      const def = /^ {0,3}\[[^\]]+\]:\s*(\S+)/.exec(line);
      if (def) out.push({ target: def[1].replace(/^<|>$/g, ''), line: k + 1 });
    });
  return out;
}

/** Every broken relative link of the Markdown files `files` (paths relative to `root`), as "file:line: target: why". */
export function brokenLinks(root: string, files: string[]): string[] {
  const problems: string[] = [];
  const idsOf = new Map<string, Set<string>>();
  const ids = (abs: string): Set<string> => {
    let s = idsOf.get(abs);
    if (!s) idsOf.set(abs, (s = headingIds(readFileSync(abs, 'utf8'))));
    return s;
  };
  for (const file of files) {
    const abs = join(root, file);
    for (const { target, line } of linkTargets(readFileSync(abs, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const where = `${file}:${line}: ${target}`;
      const hash = target.indexOf('#');
      const pathPart = decodeURIComponent(hash >= 0 ? target.slice(0, hash) : target);
      const fragment = hash >= 0 ? decodeURIComponent(target.slice(hash + 1)) : null;
      const dest = pathPart === '' ? abs : resolve(dirname(abs), pathPart);
      const rel = relative(root, dest);
      if (rel === '..' || rel.startsWith(`..${sep}`) || resolve(root, rel) !== dest) {
        problems.push(`${where}: points outside the repository`);
        continue;
      }
      if (!existsSync(dest)) {
        problems.push(`${where}: ${rel} does not exist`);
        continue;
      }
      if (fragment !== null && dest.endsWith('.md') && statSync(dest).isFile() && !ids(dest).has(fragment)) {
        problems.push(`${where}: no heading with the id "${fragment}" in ${rel}`);
      }
    }
  }
  return problems;
}

const fixtureDirs: string[] = [];
afterAll(() => fixtureDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('the link checker', () => {
  it('finds broken files, broken anchors and paths outside the repository, and passes good links', () => {
    const root = mkdtempSync(join(tmpdir(), 'docs-links-'));
    fixtureDirs.push(root);
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'b.md'), '# B page\n\n## Exit codes: `0` to 4\n\n## Exit codes: `0` to 4\n');
    writeFileSync(
      join(root, 'README.md'),
      [
        '# Top',
        '[good](docs/b.md) [anchor](docs/b.md#exit-codes-0-to-4) [second](docs/b.md#exit-codes-0-to-4-1) [self](#top)',
        '![dir](docs/) [web](https://example.com/x.md) `[code](missing-in-code.md)`',
        '[missing](docs/none.md)',
        '[bad anchor](docs/b.md#exit-codes)',
        '[outside](../elsewhere/notes.md)',
        '```',
        '[fenced](fenced-missing.md)',
        '```',
        '[ref]: docs/gone.md',
      ].join('\n'),
    );
    expect(brokenLinks(root, ['README.md'])).toEqual([
      'README.md:4: docs/none.md: docs/none.md does not exist',
      'README.md:5: docs/b.md#exit-codes: no heading with the id "exit-codes" in docs/b.md',
      'README.md:6: ../elsewhere/notes.md: points outside the repository',
      'README.md:10: docs/gone.md: docs/gone.md does not exist',
    ]);
  });

  it('gives headings the ids GitHub gives them', () => {
    const ids = headingIds(
      "## The adapter's probes\n## On a real GPU: `bench/gpu-device.sh`\n## Forward-mode gradients (RTRL)\n```\n# not a heading\n```\n",
    );
    expect([...ids]).toEqual(['the-adapters-probes', 'on-a-real-gpu-benchgpu-devicesh', 'forward-mode-gradients-rtrl']);
  });
});

describe('README.md and docs/*.md', () => {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);

  it('every relative link resolves (file or folder in the repository; anchors name a heading)', () => {
    expect(docs.length).toBeGreaterThan(5);
    expect(brokenLinks(ROOT, ['README.md', ...docs])).toEqual([]);
  });

  it('every page in docs/ is linked from the README', () => {
    const linked = new Set(
      linkTargets(readFileSync(join(ROOT, 'README.md'), 'utf8'))
        .map(({ target }) => target.replace(/#.*$/, ''))
        .filter((t) => t.startsWith('docs/')),
    );
    expect(docs.filter((d) => !linked.has(d))).toEqual([]);
  });
});
