// Quiet stderr: Dawn's known noise (on lavapipe, `Warning: maxDynamic…BuffersPerPipelineLayout artificially reduced
// …` twice per instance) is kept off stderr, so `statquest --backend webgpu` on lavapipe and on SwiftShader prints
// nothing there: with stderr a socket (Node's child_process 'pipe': the command runs in a filtered child process),
// a shell pipe or a file opened for appending (filtered in the process), a file written from the start (the child
// again), and when the adapter probe of `auto` opens both adapters. `--verbose` and WEBGPU_RNN_LOG=dawn let Dawn's
// lines through unchanged, with the same stdout; a bad WEBGPU_RNN_LOG is exit 2 naming it. The filter itself is
// checked on its own (whole text and arriving in pieces). Without an adapter the CLI cases are skipped with a
// notice, except in CI (CI=true), where they fail.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dawnNoiseStream, filterDawnOutput } from '../src/gpu/dawn-log.ts';
import { cli, expectInputError } from './helpers/cli.ts';
import { CLI, CLI_SHELL } from './helpers/cli-process.ts';
import { gpuRequired, tryGpuEngine } from './helpers/gpu.ts';

const root = join(import.meta.dirname, '..');
const NOISE = ['Uniform', 'Storage'].map(
  (kind) =>
    `Warning: maxDynamic${kind}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n`,
);
const scratch = mkdtempSync(join(tmpdir(), 'webgpu-rnn-quiet-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no driver list of the user's, no log switch; then `env`. */
function cleanEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, WEBGPU_RNN_ADAPTER: '', ...env };
  for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'WEBGPU_RNN_LOG', 'WEBGPU_RNN_LOG_PIPELINES'])
    if (!(k in env)) delete base[k];
  return base;
}

/** The CLI as a child process (stderr: Node's pipe, a socket, unless `stderr` is a descriptor to give it). */
function run(args: string[], env: Record<string, string> = {}, stderr?: number): Run {
  const r = spawnSync(process.execPath, [...CLI, ...args], {
    cwd: root,
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 240_000,
    stdio: ['ignore', 'pipe', stderr ?? 'pipe'],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr ?? '' };
}

/** Null when `adapter` gives a WebGPU engine here, else why not. */
async function unavailable(adapter: 'lavapipe' | 'swiftshader'): Promise<string | null> {
  const made = await tryGpuEngine({ adapter });
  if (typeof made === 'string') return made;
  made.dispose();
  return null;
}

const missing = { lavapipe: await unavailable('lavapipe'), swiftshader: await unavailable('swiftshader') };
for (const [adapter, why] of Object.entries(missing))
  if (why && !gpuRequired) console.warn(`\n[webgpu-rnn] quiet-stderr checks on ${adapter} skipped: ${why}\n`);
/** Runs the case when the adapter is there, and in CI (where a missing adapter fails it). */
const when = (adapter: keyof typeof missing) => it.runIf(!missing[adapter] || gpuRequired);

describe("Dawn's noise filter", () => {
  it('drops exactly the two clamped-limit warnings and keeps every other line, in order', () => {
    const other = 'ERROR: [Loader Message] Code 0 : a driver failed\n';
    expect(filterDawnOutput(NOISE[0] + other + NOISE[1])).toBe(other);
    expect(filterDawnOutput(NOISE.join(''))).toBe('');
    expect(filterDawnOutput(`${NOISE[0].trimEnd()}\r\nlast line, no newline`)).toBe('last line, no newline');
    // The same words with other numbers are the same warning; another limit's warning is not.
    expect(filterDawnOutput(NOISE[0].replace('1000000', '500000'))).toBe('');
    const unknown = NOISE[0].replace('maxDynamicUniformBuffers', 'maxSamplers');
    expect(filterDawnOutput(unknown)).toBe(unknown);
  });

  it('as a stream: holds back only what may still become noise, and passes progress redraws on at once', () => {
    const out: string[] = [];
    const stream = dawnNoiseStream((t) => out.push(t));
    const text = `\r\x1b[Ktrain: 5%${NOISE[0]}ok\n${NOISE[1]}Warning: another\nWarn`;
    for (const ch of text) stream.push(ch); // one character at a time: the worst split
    expect(out.join('')).toBe('\r\x1b[Ktrain: 5%ok\nWarning: another\n');
    stream.end();
    expect(out.join('')).toBe('\r\x1b[Ktrain: 5%ok\nWarning: another\nWarn');
    const progress: string[] = [];
    const live = dawnNoiseStream((t) => progress.push(t));
    live.push('\r\x1b[Kgrad: 40% (4 of 10 sequences)');
    expect(progress).toEqual(['\r\x1b[Kgrad: 40% (4 of 10 sequences)']); // no newline needed
  });
});

describe('statquest --backend webgpu prints nothing on stderr', () => {
  when('lavapipe')('on lavapipe (--adapter lavapipe; WEBGPU_RNN_LOG=0 too), with the report on stdout', () => {
    const r = run(['statquest', '--backend', 'webgpu', '--adapter', 'lavapipe']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/computed by the webgpu backend \(mesa software \(llvmpipe/);
    expect(r.stdout).toContain('SSR = (0 − 0)² + (1 − 0.99)² = 0.0001');
    const off = run(['statquest', '--backend', 'webgpu', '--adapter', 'lavapipe'], { WEBGPU_RNN_LOG: '0' });
    expect(off.stderr).toBe('');
    expect(off.stdout).toBe(r.stdout);
  });

  when('swiftshader')('on SwiftShader, by --adapter and by WEBGPU_RNN_ADAPTER', () => {
    const byOption = run(['statquest', '--backend', 'webgpu', '--adapter', 'swiftshader']);
    const byEnv = run(['statquest', '--backend', 'webgpu'], { WEBGPU_RNN_ADAPTER: 'swiftshader' });
    for (const r of [byOption, byEnv]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/computed by the webgpu backend \(google swiftshader/);
    }
    expect(byEnv.stdout).toBe(byOption.stdout);
  });

  when('lavapipe')('on lavapipe with stderr a shell pipe (2>&1 | cat), filtered in the process itself', () => {
    const pipeline = `${CLI_SHELL} statquest --backend webgpu --adapter lavapipe 2>&1 >/dev/null | cat; echo "status=\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', pipeline], { cwd: root, env: cleanEnv(), encoding: 'utf8', timeout: 240_000 });
    expect(r.stdout).toBe('status=0\n');
    expect(r.stderr).toBe('');
  });

  when('lavapipe')('on lavapipe with stderr a file, opened for appending (2>>file) or not (2>file)', () => {
    for (const flags of ['a', 'w']) {
      const file = join(scratch, `stderr-${flags}.log`);
      const fd = openSync(file, flags);
      try {
        const r = run(['statquest', '--backend', 'webgpu', '--adapter', 'lavapipe'], {}, fd);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain('SSR = (0 − 0)² + (1 − 0.99)² = 0.0001');
      } finally {
        closeSync(fd);
      }
      expect(readFileSync(file, 'utf8'), flags).toBe('');
    }
  });

  it.runIf((!missing.lavapipe && !missing.swiftshader) || gpuRequired)(
    'with auto, whose first run probes both software adapters (a fresh probe cache)',
    () => {
      const r = run(['statquest', '--backend', 'webgpu'], { XDG_CACHE_HOME: join(scratch, 'cache') });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(join(scratch, 'cache', 'webgpu-rnn', 'adapter-probe.json'), 'utf8')).toMatch(
        /"milliseconds":\{"swiftshader":[\d.]+,"lavapipe":[\d.]+\}/,
      );
    },
  );
});

describe("--verbose and WEBGPU_RNN_LOG=dawn show Dawn's own lines", () => {
  when('lavapipe')('on lavapipe: the two warnings on stderr, the same report on stdout', () => {
    const quiet = run(['statquest', '--backend', 'webgpu', '--adapter', 'lavapipe']);
    const verbose = run(['statquest', '--backend', 'webgpu', '--adapter', 'lavapipe', '--verbose']);
    const before = run(['--verbose', 'statquest', '--backend', 'webgpu', '--adapter', 'lavapipe']);
    const logged = run(['statquest', '--backend', 'webgpu', '--adapter', 'lavapipe'], { WEBGPU_RNN_LOG: 'dawn' });
    const one = run(['statquest', '--backend', 'webgpu', '--adapter', 'lavapipe'], { WEBGPU_RNN_LOG: '1' });
    for (const r of [verbose, before, logged, one]) {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(NOISE.join(''));
      expect(r.stdout).toBe(quiet.stdout);
    }
  });

  when('swiftshader')('on SwiftShader, where Dawn prints nothing: --verbose is accepted, stderr stays empty', () => {
    const quiet = run(['statquest', '--backend', 'webgpu', '--adapter', 'swiftshader']);
    const verbose = run(['statquest', '--verbose', '--backend', 'webgpu', '--adapter', 'swiftshader']);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toBe('');
    expect(verbose.stdout).toBe(quiet.stdout);
  });

  it('a WEBGPU_RNN_LOG other than dawn, 1 or 0 is bad input (exit 2) naming it', async () => {
    const saved = process.env.WEBGPU_RNN_LOG;
    process.env.WEBGPU_RNN_LOG = 'loud';
    try {
      expectInputError(await cli('statquest', '--backend', 'cpu'), 'WEBGPU_RNN_LOG: unknown value "loud"');
    } finally {
      if (saved === undefined) delete process.env.WEBGPU_RNN_LOG;
      else process.env.WEBGPU_RNN_LOG = saved;
    }
  });
});
