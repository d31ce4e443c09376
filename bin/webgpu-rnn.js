#!/usr/bin/env node
// Launcher for the webgpu-rnn CLI: runs the built JavaScript in dist/ (made by `npm run build:lib`, which npm runs on
// `npm ci` / `npm install` in the repository through `prepare`; the published package ships it).
try {
  await import('../dist/cli/main.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli/main.js')) {
    process.stderr.write(
      'webgpu-rnn: the CLI is not built (dist/cli/main.js is missing): run `npm run build:lib` in the repository\n',
    );
    process.exit(1);
  }
  throw e;
}
