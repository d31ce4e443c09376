// The command in a child process whose stderr passes through Dawn's noise filter, for a stderr that the in-process
// filter (src/gpu/dawn-log.ts) cannot point back at after Dawn has printed: a socket (what Node's child_process
// gives a child for 'pipe', so every Node tool that runs webgpu-rnn) or a file written at an offset (`2>file`).
// Only on Linux (where Dawn's Vulkan backend prints the noise), only for commands that may open Dawn (not
// --backend cpu, gen-data, --help or --version), and not with --verbose or WEBGPU_RNN_LOG=dawn. The child inherits
// stdin and stdout; its stderr goes through dawnNoiseStream to ours; SIGINT, SIGTERM and SIGHUP are passed on, its
// exit code (or the signal that ended it) is ours, and it ends (as on SIGTERM) when this process is gone.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { dawnNoiseStream, stderrKind } from '../gpu/dawn-log.ts';

/** Set in the child's environment: it runs the command itself. */
const CHILD = 'WEBGPU_RNN_CLI_CHILD';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Whether `args` should run in a filtered child process (see the top of this file). */
export function wantsDawnChild(args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux' || env[CHILD] === '1') return false;
  const log = (env.WEBGPU_RNN_LOG ?? '').trim();
  if ((log !== '' && log !== '0') || args.includes('--verbose')) return false; // shown, or bad (exit 2 in-process)
  const end = args.indexOf('--');
  const opts = end < 0 ? args : args.slice(0, end);
  if (opts.length === 0 || ['gen-data', 'help'].includes(opts[0])) return false;
  if (opts.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version')) return false;
  if (opts.some((a, k) => a === '--backend=cpu' || (a === '--backend' && opts[k + 1] === 'cpu'))) return false;
  return stderrKind(fs).kind === 'other';
}

/** In the child: ends as if sent SIGTERM when the parent is gone (the channel closed, e.g. the parent was killed). */
export function followParent(): void {
  if (process.env[CHILD] !== '1' || !process.send) return;
  process.channel?.unref(); // the channel alone does not keep the command running
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/** Runs the CLI on `args` in a child process with Dawn's noise filtered from its stderr; resolves with its exit code. */
export async function runDawnChild(args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args], {
    stdio: ['inherit', 'inherit', 'pipe', 'ipc'], // the channel closes when this process ends, however it ends
    env: { ...process.env, [CHILD]: '1' },
  });
  const filter = dawnNoiseStream((text) => void process.stderr.write(text));
  const stderr = child.stderr!; // 'pipe'
  stderr.setEncoding('utf8');
  stderr.on('data', (text: string) => filter.push(text));
  const forward = SIGNALS.map((signal) => [signal, () => void child.kill(signal)] as const);
  for (const [signal, pass] of forward) process.on(signal, pass);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`webgpu-rnn: cannot start the command's process: ${e.message}\n`);
      resolve([1, null]);
    });
    child.on('close', (c, s) => resolve([c, s]));
  });
  for (const [sig, pass] of forward) process.off(sig, pass);
  filter.end();
  if (signal) {
    // Ended by a signal: end the same way (a shell then reports 128 + its number), once stderr has drained.
    await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
    process.kill(process.pid, signal);
    return 128 + (constants.signals[signal] ?? 0);
  }
  return code ?? 1;
}
