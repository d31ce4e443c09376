#!/usr/bin/env node
// Launcher for the webgpu-rnn CLI: runs the TypeScript sources through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
