// The dependency rules of .dependency-cruiser.cjs (no import cycles, type-only imports included; layers that only
// point down) hold over src/, bench/ and test/ with zero violations, and each rule is shown to fire: a probe tree of
// tiny modules, one deliberate violation per rule (a two-module cycle closed by a type-only import, an upward import
// from src/gpu/ into src/train/, …), is cruised with the same configuration and must report exactly those. The probe
// tree lives in a fresh folder under test-artifacts/ (ignored by git, Prettier, ESLint and tsc) and is cruised with
// that folder as the base directory, so its files never enter the real src/ and a left-over copy breaks nothing.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseConfig from 'dependency-cruiser/config-utl/extract-depcruise-config';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One deliberate violation: the rule that must report it, and the files that commit it (path → source). */
interface Probe {
  rule: string;
  from: string;
  to: string;
  files: Record<string, string>;
}

const PROBES: Probe[] = [
  {
    // a → b by value, b → a by type only: without type-only imports counted this would be no cycle at all.
    rule: 'no-cycles',
    from: 'src/__cycle_probe__/a.ts',
    to: 'src/__cycle_probe__/b.ts',
    files: {
      'src/__cycle_probe__/a.ts':
        "import { B_SIZE } from './b.ts';\nexport interface A { size: number }\nexport const A_SIZE = B_SIZE + 1;\n",
      'src/__cycle_probe__/b.ts':
        "import type { A } from './a.ts';\nexport const B_SIZE = 1;\nexport type B = A | null;\n",
    },
  },
  {
    rule: 'gpu-stays-below',
    from: 'src/gpu/__probe__.ts',
    to: 'src/train/options.ts',
    files: {
      'src/gpu/__probe__.ts':
        "import type { TrainOptions } from '../train/options.ts';\nexport type Probe = TrainOptions;\n",
      'src/train/options.ts': 'export interface TrainOptions { steps: number }\n',
    },
  },
  {
    // What the runtime once did: take its context type from the strategy interface above it.
    rule: 'gpu-runtime-below-strategies',
    from: 'src/gpu/runtime.ts',
    to: 'src/gpu/strategy.ts',
    files: {
      'src/gpu/runtime.ts':
        "import type { StrategyContext } from './strategy.ts';\nexport type Ctx = StrategyContext;\n",
      'src/gpu/strategy.ts': 'export interface StrategyContext { budgetBytes: number }\n',
    },
  },
  {
    rule: 'gpu-plans-below-kernels',
    from: 'src/gpu/gemm/plan.ts',
    to: 'src/gpu/gemm/kernels.ts',
    files: {
      'src/gpu/gemm/plan.ts':
        "import { STEP_RECORD_BYTES } from './kernels.ts';\nexport const B = STEP_RECORD_BYTES;\n",
      'src/gpu/gemm/kernels.ts': 'export const STEP_RECORD_BYTES = 256;\n',
    },
  },
  {
    rule: 'backend-contract-below-backends',
    from: 'src/backend.ts',
    to: 'src/gpu/backend.ts',
    files: {
      'src/backend.ts': "import type { RunStats } from './gpu/backend.ts';\nexport type Stats = RunStats;\n",
      'src/gpu/backend.ts': 'export interface RunStats { chunks: number }\n',
    },
  },
  {
    // What the model once did: take the series metadata from the data layer above it.
    rule: 'model-core-stays-below',
    from: 'src/model.ts',
    to: 'src/data/series.ts',
    files: {
      'src/model.ts': "import type { SeriesInfo } from './data/series.ts';\nexport type Info = SeriesInfo;\n",
      'src/data/series.ts': 'export interface SeriesInfo { window: number }\n',
    },
  },
  {
    rule: 'cpu-reference-has-no-gpu',
    from: 'src/cpu/reference.ts',
    to: 'src/gpu/device.ts',
    files: {
      'src/cpu/reference.ts': "import { DEVICE } from '../gpu/device.ts';\nexport const D = DEVICE;\n",
      'src/gpu/device.ts': "export const DEVICE = 'probe';\n",
    },
  },
  {
    rule: 'nothing-imports-the-cli',
    from: 'src/engine.ts',
    to: 'src/cli/main.ts',
    files: {
      'src/engine.ts': "import { MAIN } from './cli/main.ts';\nexport const E = MAIN;\n",
      'src/cli/main.ts': "export const MAIN = 'probe';\n",
    },
  },
  {
    rule: 'nothing-imports-the-page',
    from: 'src/study/__probe__.ts',
    to: 'src/page/main.ts',
    files: {
      'src/study/__probe__.ts': "import { PAGE } from '../page/main.ts';\nexport const S = PAGE;\n",
      'src/page/main.ts': "export const PAGE = 'probe';\n",
    },
  },
  {
    rule: 'no-unresolvable',
    from: 'src/io/__probe__.ts',
    to: './missing.ts',
    files: { 'src/io/__probe__.ts': "import { GONE } from './missing.ts';\nexport const I = GONE;\n" },
  },
];

let ruleSet: IConfiguration;
let tsConfig: ReturnType<typeof extractTSConfig>;

/** Cruises `paths` under `baseDir` with the project's rules and options; `overrides` replaces some of the options. */
async function cruiseWith(paths: string[], baseDir: string, overrides: ICruiseOptions = {}): Promise<ICruiseResult> {
  const r = await cruise(paths, { validate: true, ruleSet, baseDir, ...overrides }, undefined, { tsConfig });
  return typeof r.output === 'string' ? (JSON.parse(r.output) as ICruiseResult) : r.output;
}

/** Each violation as `rule: from → to` (a cycle as its first edge), sorted. */
function violations(result: ICruiseResult): string[] {
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

beforeAll(async () => {
  ruleSet = await extractDepcruiseConfig(join(ROOT, '.dependency-cruiser.cjs'));
  tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'));
});

describe('dependency rules', () => {
  it('hold over src, bench and test with zero violations', async () => {
    const result = await cruiseWith(['src', 'bench', 'test'], ROOT);
    expect(violations(result)).toEqual([]);
    // The cruise saw the whole tree, not an empty or mistyped selection.
    expect(result.summary.totalCruised).toBeGreaterThan(200);
    expect(result.modules.some((m) => m.source === 'src/gpu/runtime.ts')).toBe(true);
    expect(result.summary.error).toBe(0);
  }, 120_000);

  describe('a probe tree with one violation per rule', () => {
    let probeRoot = '';

    beforeAll(() => {
      mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
      probeRoot = mkdtempSync(join(ROOT, 'test-artifacts', 'dependency-probe-'));
      for (const probe of PROBES) {
        for (const [path, text] of Object.entries(probe.files)) {
          mkdirSync(dirname(join(probeRoot, path)), { recursive: true });
          writeFileSync(join(probeRoot, path), `// Temporary module of test/dependency-rules.test.ts.\n${text}`);
        }
      }
    });

    afterAll(() => {
      if (probeRoot) rmSync(probeRoot, { recursive: true, force: true });
    });

    it('reports every probe under its rule, and nothing else', async () => {
      const result = await cruiseWith(['src'], probeRoot);
      expect(violations(result)).toEqual(PROBES.map((p) => `${p.rule}: ${p.from} → ${p.to}`).sort());
      expect(result.summary.violations.every((v) => v.rule.severity === 'error')).toBe(true);
      // Every rule of the configuration has a probe, so a rule that stops matching is caught.
      expect(ruleSet.forbidden?.map((r) => r.name).sort()).toEqual(PROBES.map((p) => p.rule).sort());
    }, 60_000);

    it('finds the cycle only because type-only imports count (tsPreCompilationDeps)', async () => {
      const cycle = (r: ICruiseResult) => r.summary.violations.filter((v) => v.rule.name === 'no-cycles');
      const counted = await cruiseWith(['src/__cycle_probe__'], probeRoot);
      expect(cycle(counted).map((v) => v.cycle?.map((c) => c.name).sort())).toEqual([
        ['src/__cycle_probe__/a.ts', 'src/__cycle_probe__/b.ts'],
      ]);
      const erased = await cruiseWith(['src/__cycle_probe__'], probeRoot, { tsPreCompilationDeps: false });
      expect(cycle(erased)).toEqual([]);
    }, 60_000);
  });
});
