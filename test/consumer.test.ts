// The package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the tarball installed into two
// fresh projects from the npm cache (package-locks made from this repository's), and then
//   - a Node project that also installs `webgpu` (Dawn, an optional peer dependency; `npm ci --offline`): a plain
//     Node ES module script (test/consumer/node-check.mjs) on the CPU and on WebGPU (SwiftShader); a strict nodenext
//     TypeScript module (test/consumer/check.ts) under `tsc --noEmit`, no skipLibCheck, and page code
//     (test/consumer/browser-check.ts) with bundler resolution and no @types/node; the installed
//     `npx webgpu-rnn --version` and `statquest`;
//   - a browser-only project without `webgpu` (`npm install --offline`, which must not add it): a Vite page
//     (test/consumer/page/) built from the installed package and run in Chromium with WebGPU; in Node, `auto` falls
//     back to the CPU saying `npm install webgpu`, and `webgpu` (library and command) is that one-line error.
// The numbers are checked against the seed notes' closed forms. Without SwiftShader or Chromium those parts are
// skipped with a notice, except in CI (CI=true), where they fail.

import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAWN_MISSING, SWIFTSHADER_ICD } from '../src/gpu/device.ts';
import { CHROMIUM, FLAGS, runBrowserTests } from './helpers/browser.ts';
import { gpuRequired } from './helpers/gpu.ts';

const root = join(import.meta.dirname, '..');
const fixtures = join(import.meta.dirname, 'consumer');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<
    string,
    {
      version: string;
      dev?: boolean;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    }
  >;
};

const swiftshader = existsSync(SWIFTSHADER_ICD);
const runGpu = swiftshader || gpuRequired;
if (!swiftshader && !gpuRequired)
  console.warn(`\n[webgpu-rnn] consumer WebGPU checks skipped: no SwiftShader at ${SWIFTSHADER_ICD}\n`);

function sh(
  cmd: string,
  args: string[],
  opts: SpawnSyncOptions & { cwd: string },
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 240_000, maxBuffer: 64 << 20, ...opts });
  return {
    code: r.status,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? '') + (r.error ? String(r.error) : ''),
  };
}

function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0)
    throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
  return r.stdout;
}

/**
 * The consumer's package.json and a package-lock with this repository's locked versions, so `npm ci --offline` can
 * install from the cache. `extra`: the consumer's own dependencies besides webgpu-rnn (`webgpu` for Node users).
 * The webgpu-rnn entry carries the package's peer dependencies as npm records them, so npm sees whether they are
 * optional.
 */
function writeConsumerProject(dir: string, tarball: string, extra: string[]): void {
  mkdirSync(dir, { recursive: true });
  const packages: Record<string, unknown> = {};
  /** Where `dep` of the package at `from` is in the lock: Node's lookup, nested node_modules first (d3-dsv has its own commander). */
  const locate = (from: string, dep: string): string => {
    for (let base = from; ;) {
      if (lock.packages[`${base}/node_modules/${dep}`]) return `${base}/node_modules/${dep}`;
      const up = base.lastIndexOf('/node_modules/');
      if (up < 0) return `node_modules/${dep}`;
      base = base.slice(0, up);
    }
  };
  const add = (key: string): void => {
    if (packages[key]) return;
    const entry = lock.packages[key];
    if (!entry) throw new Error(`package-lock.json has no ${key}`);
    const rest: Record<string, unknown> = { ...entry };
    delete rest.dev; // a consumer's dependencies, dev-only here or not
    packages[key] = rest;
    for (const dep of Object.keys(entry.dependencies ?? {})) add(locate(key, dep));
    for (const dep of Object.keys(entry.optionalDependencies ?? {}))
      if (lock.packages[locate(key, dep)]) add(locate(key, dep)); // another platform's are not locked
  };
  const dependencies: Record<string, string> = { 'webgpu-rnn': `file:${tarball}` };
  for (const name of extra) dependencies[name] = lock.packages[`node_modules/${name}`].version;
  packages['node_modules/webgpu-rnn'] = {
    version: pkg.version,
    resolved: `file:${tarball}`,
    license: pkg.license,
    dependencies: pkg.dependencies,
    bin: { 'webgpu-rnn': 'bin/webgpu-rnn.js' },
    engines: pkg.engines,
    peerDependencies: pkg.peerDependencies,
    peerDependenciesMeta: pkg.peerDependenciesMeta,
  };
  for (const name of [...Object.keys(pkg.dependencies), ...extra]) add(`node_modules/${name}`);
  const project = { name: 'webgpu-rnn-consumer', private: true, type: 'module', dependencies };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(project, null, 2));
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify(
      { name: project.name, lockfileVersion: 3, requires: true, packages: { '': project, ...packages } },
      null,
      2,
    ),
  );
}

/** `npm <command> --offline` in `dir`, then with `--prefer-offline` when the cache lacks some tarball (npm ci was run with another cache). */
function npmInstall(command: 'ci' | 'install', dir: string, env: NodeJS.ProcessEnv): void {
  const flags = ['--no-audit', '--no-fund'];
  if (sh('npm', [command, '--offline', ...flags], { cwd: dir, env }).code === 0) return;
  ok(sh('npm', [command, '--prefer-offline', ...flags], { cwd: dir, env }), `npm ${command} in ${dir}`);
}

/** The notes' network on their two sequences, by hand (see test/statquest.test.ts): h2 = 0.9, predicted 0.99. */
const W = { w1: 1.8, w3: 1.1 };
const h2 = W.w1 * 0.5;
const g = -2 * (1 - W.w3 * h2);
const NOTES = {
  predicted: [0, W.w3 * h2],
  ssr: (1 - W.w3 * h2) ** 2,
  grads: { w1: g * W.w3 * 0.5, b1: g * W.w3, w2: 0, w3: g * h2, b2: g },
};

interface NodeCheck {
  backend: string;
  adapter: string;
  loss: number;
  outputs: number[];
  grads: Record<keyof typeof NOTES.grads, number>;
  roundTrips: {
    bytes: number[];
    json: { inputs: number[]; targets: number[] };
    rnnb: { inputs: number[]; targets: number[] };
  };
  seedData: { inputs: number[]; targets: number[] };
  fallbackReason: string | null;
  trainedW1: number;
  report: { predicted: number[]; ssr: number };
}

/** Checks a node-check.mjs result against the notes, to `digits` decimals (toBeCloseTo). */
function expectNotes(r: NodeCheck, digits: number): void {
  r.outputs.forEach((v, k) => expect(v, `predicted[${k}]`).toBeCloseTo(NOTES.predicted[k], digits));
  expect(r.outputs[0]).toBe(0);
  expect(r.loss).toBeCloseTo(NOTES.ssr, digits + 3);
  for (const k of Object.keys(NOTES.grads) as (keyof typeof NOTES.grads)[])
    expect(r.grads[k], `dSSR/d${k}`).toBeCloseTo(NOTES.grads[k], digits);
  expect(r.grads.w2).toBe(0);
  for (const trip of [r.roundTrips.json, r.roundTrips.rnnb, r.seedData])
    expect(trip).toEqual({ inputs: [1, 0.5, 0, 0.5], targets: [0, 1] });
  expect(r.roundTrips.bytes).toEqual([1, 0.5, 0, 0.5]);
  // One SGD step with lr 0.5: w1 − 0.5·dSSR/dw1.
  expect(r.trainedW1).toBeCloseTo(W.w1 - 0.5 * NOTES.grads.w1, digits);
  r.report.predicted.forEach((v, k) => expect(v).toBeCloseTo(NOTES.predicted[k], digits));
  expect(r.report.ssr).toBeCloseTo(NOTES.ssr, digits + 3);
}

/** Consumers get a clean environment: no adapter choice from the test run, SwiftShader through the Vulkan loader. */
const env = {
  ...process.env,
  WEBGPU_RNN_ADAPTER: '',
  VK_ICD_FILENAMES: SWIFTSHADER_ICD,
  npm_config_update_notifier: 'false',
};
let base = '';
let tarball = '';
let files: string[] = [];

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'webgpu-rnn-consumer-'));
  const packed = JSON.parse(
    ok(sh('npm', ['pack', '--json', '--pack-destination', base], { cwd: root, env }), 'npm pack'),
  ) as { filename: string; files: { path: string }[] }[];
  files = packed[0].files.map((f) => f.path);
  tarball = join(base, packed[0].filename);
}, 240_000);

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('the packed package installed in a Node project with webgpu', () => {
  let dir = '';

  beforeAll(() => {
    dir = join(base, 'node');
    writeConsumerProject(dir, tarball, ['webgpu', 'typescript', '@types/node']);
    npmInstall('ci', dir, env);
    cpSync(fixtures, dir, { recursive: true });
  }, 480_000);

  it('ships dist/ (JS, declarations, source maps), the launcher, README, LICENSE and CHANGELOG, and nothing else', () => {
    const top = new Set(files.map((f) => f.split('/')[0]));
    expect([...top].sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'bin', 'dist', 'package.json']);
    for (const entry of [
      'index',
      'formats',
      'formats.browser',
      'experiments',
      'data',
      'training',
      'cli/main',
      'gpu/shaders',
    ]) {
      expect(files, entry).toContain(`dist/${entry}.js`);
      expect(files, entry).toContain(`dist/${entry}.d.ts`);
    }
    expect(files).toContain('dist/index.js.map');
    expect(files.some((f) => /^(src|test|bench|shaders|\.ci|scripts)\//.test(f))).toBe(false);
    // The WGSL is inside the JavaScript: the installed package has no shaders/ and no '#shaders' import.
    const installed = join(dir, 'node_modules', 'webgpu-rnn');
    expect(existsSync(join(dir, 'node_modules', 'webgpu', 'package.json'))).toBe(true);
    expect(existsSync(join(installed, 'shaders'))).toBe(false);
    expect(readFileSync(join(installed, 'dist/gpu/per-sequence/rnn.js'), 'utf8')).not.toContain('#shaders');
    expect(readFileSync(join(installed, 'dist/gpu/shaders.js'), 'utf8')).toContain(
      readFileSync(join(root, 'shaders/per_sequence/bptt.wgsl'), 'utf8').split('\n')[0].replaceAll('"', '\\"'),
    );
  });

  it("plain Node imports every entry and gets the notes' numbers on the CPU (float64)", () => {
    const r = JSON.parse(
      ok(sh(process.execPath, ['node-check.mjs', 'cpu'], { cwd: dir, env }), 'node-check.mjs cpu'),
    ) as NodeCheck;
    expect(r.backend).toBe('cpu');
    expectNotes(r, 14);
  });

  it.runIf(runGpu)("plain Node gets the notes' numbers on WebGPU (Dawn on SwiftShader)", () => {
    const r = JSON.parse(
      ok(sh(process.execPath, ['node-check.mjs', 'webgpu'], { cwd: dir, env }), 'node-check.mjs webgpu'),
    ) as NodeCheck;
    expect(r.backend).toBe('webgpu');
    expect(r.adapter).toMatch(/swiftshader/i);
    expectNotes(r, 6);
  });

  it.each([
    ['a strict nodenext TypeScript consumer in Node, no skipLibCheck,', 'tsconfig.json'],
    ['strict TypeScript page code (bundler resolution, DOM, no @types/node, no skipLibCheck)', 'tsconfig.browser.json'],
  ])('%s compiles with no errors', (_what, config) => {
    const r = sh(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', config, '--pretty', 'false'], {
      cwd: dir,
      env,
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it("the installed command: npx webgpu-rnn --version and statquest print the version and the notes' numbers", () => {
    expect(
      ok(sh('npx', ['--no-install', 'webgpu-rnn', '--version'], { cwd: dir, env }), 'npx webgpu-rnn --version').trim(),
    ).toBe(pkg.version);
    const text = ok(
      sh('npx', ['--no-install', 'webgpu-rnn', 'statquest', '--backend', 'cpu'], { cwd: dir, env }),
      'npx webgpu-rnn statquest',
    );
    expect(text).toContain('SSR = (0 − 0)² + (1 − 0.99)² = 0.0001');
    expect(text).toContain('dSSR/dw1 = -0.011');
    const json = JSON.parse(
      ok(
        sh('npx', ['--no-install', 'webgpu-rnn', 'statquest', '--backend', 'cpu', '--json'], { cwd: dir, env }),
        'npx webgpu-rnn statquest --json',
      ),
    ) as {
      ssr: { ssr: number; grads: Record<string, number> };
    };
    expect(json.ssr.ssr).toBeCloseTo(NOTES.ssr, 15);
    for (const k of Object.keys(NOTES.grads) as (keyof typeof NOTES.grads)[])
      expect(json.ssr.grads[k], k).toBeCloseTo(NOTES.grads[k], 14);
  });
});

describe('the packed package installed in a browser-only project, without webgpu', () => {
  let bare = '';
  /** The installed command, without npx's start-up. */
  const command = (...args: string[]) => sh(join(bare, 'node_modules', '.bin', 'webgpu-rnn'), args, { cwd: bare, env });

  beforeAll(() => {
    bare = join(base, 'browser');
    writeConsumerProject(bare, tarball, []);
    // `npm install`, not `npm ci`: npm resolves the peer dependencies itself, and would add a required one.
    npmInstall('install', bare, env);
    cpSync(fixtures, bare, { recursive: true });
  }, 480_000);

  it('npm installs webgpu-rnn and its dependencies but not webgpu (an optional peer dependency)', () => {
    expect(existsSync(join(bare, 'node_modules', 'webgpu-rnn', 'package.json'))).toBe(true);
    expect(existsSync(join(bare, 'node_modules', 'commander', 'package.json'))).toBe(true);
    expect(existsSync(join(bare, 'node_modules', 'webgpu'))).toBe(false);
    const installed = JSON.parse(readFileSync(join(bare, 'node_modules', 'webgpu-rnn', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(installed.dependencies.webgpu).toBeUndefined();
    expect(installed.peerDependencies.webgpu).toBe(pkg.devDependencies.webgpu);
    expect(installed.peerDependenciesMeta.webgpu).toEqual({ optional: true });
  });

  it("plain Node: auto falls back to the CPU naming npm install webgpu, and gets the notes' numbers", () => {
    const r = JSON.parse(
      ok(sh(process.execPath, ['node-check.mjs', 'auto'], { cwd: bare, env }), 'node-check.mjs auto'),
    ) as NodeCheck;
    expect(r.backend).toBe('cpu');
    expect(r.fallbackReason).toBe(DAWN_MISSING);
    expect(r.fallbackReason).toContain('npm install webgpu');
    expectNotes(r, 14);
  });

  it("plain Node: backend 'webgpu' is a one-line GpuError naming npm install webgpu", () => {
    const r = JSON.parse(
      ok(sh(process.execPath, ['backend-error.mjs', 'webgpu'], { cwd: bare, env }), 'backend-error.mjs webgpu'),
    ) as { name: string; gpuError: boolean; message: string };
    expect(r).toEqual({ name: 'GpuError', gpuError: true, message: DAWN_MISSING });
  });

  it('the command: statquest falls back with one line on stderr; --backend webgpu exits 1 with one line', () => {
    const auto = command('statquest');
    expect(auto.code).toBe(0);
    expect(auto.stdout).toContain('SSR = (0 − 0)² + (1 − 0.99)² = 0.0001');
    expect(auto.stderr).toBe(`webgpu-rnn: WebGPU unavailable (${DAWN_MISSING}); using the CPU reference\n`);
    const webgpu = command('statquest', '--backend', 'webgpu');
    expect(webgpu.stdout).toBe('');
    expect(webgpu.stderr).toBe(`webgpu-rnn: ${DAWN_MISSING}\n`);
    expect(webgpu.code).toBe(1);
  });

  it.runIf(runBrowserTests)(
    "a Vite page importing the package computes the notes' forward pass on WebGPU in Chromium",
    async () => {
      if (!existsSync(CHROMIUM))
        throw new Error(`browser tests are required here (CI) but there is no Chromium at ${CHROMIUM}`);
      const outDir = join(bare, 'page-dist');
      await build({
        root: join(bare, 'page'),
        configFile: false,
        logLevel: 'error',
        build: { outDir, emptyOutDir: true },
      });
      const server: Server = createServer((req, res) => {
        const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
          /^(\.\.[/\\])+/,
          '',
        );
        const file = join(outDir, path === '/' ? 'index.html' : path);
        if (!file.startsWith(outDir) || !existsSync(file)) return void res.writeHead(404).end();
        res
          .writeHead(200, { 'content-type': extname(file) === '.html' ? 'text/html' : 'text/javascript' })
          .end(readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
        const addr = server.address();
        await page.goto(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`);
        await page.waitForFunction(() => (window as { consumerResult?: unknown }).consumerResult !== undefined, null, {
          timeout: 60_000,
        });
        const r = (await page.evaluate(() => (window as { consumerResult?: unknown }).consumerResult)) as {
          error?: string;
          backend: string;
          adapter: string;
          predicted: number[];
          hidden: number[];
        };
        expect(r.error).toBeUndefined();
        expect(errors).toEqual([]);
        expect(r.backend).toBe('webgpu');
        expect(r.adapter).toMatch(/swiftshader/i);
        // [1, 0.5]: hidden 1.8 then 0, predicted 0;  [0, 0.5]: hidden 0 then 0.9, predicted 0.99.
        expect(r.predicted[0]).toBe(0);
        r.predicted.forEach((v, k) => expect(v).toBeCloseTo(NOTES.predicted[k], 6));
        [1.8, 0, 0, h2].forEach((v, k) => expect(r.hidden[k], `hidden[${k}]`).toBeCloseTo(v, 6));
      } finally {
        await browser.close();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});
