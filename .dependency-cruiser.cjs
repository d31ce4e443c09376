// Dependency rules (dependency-cruiser): no import cycles, type-only imports included, and layers that point down.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No module may reach itself through its imports, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'gpu-stays-below',
      severity: 'error',
      comment: 'The GPU runtime and kernels never import training, the CLI, the page or the benchmark.',
      from: { path: '^src/gpu/' },
      to: { path: '^src/(train|cli|page|benchmark)/' },
    },
    {
      name: 'cpu-reference-has-no-gpu',
      severity: 'error',
      comment: 'The float64 CPU reference never imports the GPU code.',
      from: { path: '^src/cpu/' },
      to: { path: '^src/gpu/' },
    },
    {
      name: 'nothing-imports-the-cli',
      severity: 'error',
      comment: 'The CLI is a top layer: only the CLI itself and its entry points import it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'nothing-imports-the-page',
      severity: 'error',
      comment: 'The page is a top layer: only the page itself imports it.',
      from: { path: '^src/', pathNot: '^src/page/' },
      to: { path: '^src/page/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (@webgpu/types is declarations only, checked by tsc).',
      from: {},
      to: { couldNotResolve: true, pathNot: '^@webgpu/types$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|dist-page|docs)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
