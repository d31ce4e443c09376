// The package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the tarball installed into a
// fresh project from the npm cache (a package-lock made from this repository's, then `npm ci --offline`), and then
//   - a plain Node ES module script (test/consumer/node-check.mjs) on the CPU and on WebGPU (SwiftShader);
//   - a strict nodenext TypeScript module (test/consumer/check.ts) under `tsc --noEmit`, no skipLibCheck, and page
//     code (test/consumer/browser-check.ts) with bundler resolution and no @types/node;
//   - a Vite page (test/consumer/page/) built from the installed package and run in Chromium with WebGPU;
//   - the installed `npx webgpu-rnn --version` and `statquest`.
// The numbers are checked against the seed notes' closed forms. Without SwiftShader or Chromium those parts are
// skipped with a notice, except in CI (CI=true), where they fail.

import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD } from '../src/gpu/device.ts';
import { CHROMIUM, FLAGS, runBrowserTests } from './helpers/browser.ts';
import { gpuRequired } from './helpers/gpu.ts';

const root = join(import.meta.dirname, '..');
const fixtures = join(import.meta.dirname, 'consumer');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
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

/** The consumer's package.json and a package-lock with this repository's locked versions, so `npm ci --offline` can install from the cache. */
function writeConsumerProject(dir: string, tarball: string): void {
  const extra = ['typescript', '@types/node'];
  const packages: Record<string, unknown> = {};
  const add = (name: string): void => {
    const key = `node_modules/${name}`;
    if (packages[key]) return;
    const entry = lock.packages[key];
    if (!entry) throw new Error(`package-lock.json has no ${key}`);
    const { dev: _dev, ...rest } = entry;
    packages[key] = rest; // a consumer's dependencies, dev-only here or not
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) add(dep);
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
  };
  for (const name of [...Object.keys(pkg.dependencies), ...extra]) add(name);
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

describe('the packed package installed in a fresh project', () => {
  let dir = '';
  let files: string[] = [];
  /** Consumers get a clean environment: no adapter choice from the test run, SwiftShader through the Vulkan loader. */
  const env = {
    ...process.env,
    WEBGPU_RNN_ADAPTER: '',
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    npm_config_update_notifier: 'false',
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-consumer-'));
    const packed = JSON.parse(
      ok(sh('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, env }), 'npm pack'),
    ) as { filename: string; files: { path: string }[] }[];
    files = packed[0].files.map((f) => f.path);
    const tarball = join(dir, packed[0].filename);
    writeConsumerProject(dir, tarball);
    const install = sh('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: dir, env });
    // A cache without some tarball (npm ci was run with another cache): fetch what is missing.
    if (install.code !== 0)
      ok(
        sh('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env }),
        'npm ci in the consumer project',
      );
    cpSync(fixtures, dir, { recursive: true });
  }, 480_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

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
    expect(existsSync(join(installed, 'shaders'))).toBe(false);
    expect(readFileSync(join(installed, 'dist/gpu/kernels/rnn.js'), 'utf8')).not.toContain('#shaders');
    expect(readFileSync(join(installed, 'dist/gpu/shaders.js'), 'utf8')).toContain(
      readFileSync(join(root, 'shaders/rnn.wgsl'), 'utf8').split('\n')[0].replaceAll('"', '\\"'),
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

  it.runIf(runBrowserTests)(
    "a Vite page importing the package computes the notes' forward pass on WebGPU in Chromium",
    async () => {
      if (!existsSync(CHROMIUM))
        throw new Error(`browser tests are required here (CI) but there is no Chromium at ${CHROMIUM}`);
      const outDir = join(dir, 'page-dist');
      await build({
        root: join(dir, 'page'),
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
