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
      name: 'model-core-stays-below',
      severity: 'error',
      comment:
        'The bottom layer (errors, model-types, the cell descriptors, the model, the batch) imports only itself: ' +
        'every other layer builds on it.',
      from: { path: '^src/(errors|model-types|model|batch)\\.ts$|^src/cells/' },
      to: { path: '^src/', pathNot: '^src/(errors|model-types|model|batch)\\.ts$|^src/cells/' },
    },
    {
      name: 'backend-contract-below-backends',
      severity: 'error',
      comment:
        'src/backend.ts, the contract both backends implement, takes GPU names from src/gpu/types.ts and the raw ' +
        'result from the CPU reference only, never from the backends themselves.',
      from: { path: '^src/backend\\.ts$' },
      to: { path: '^src/(gpu|cpu)/', pathNot: '^src/gpu/types\\.ts$|^src/cpu/reference\\.ts$' },
    },
    {
      name: 'gpu-runtime-below-strategies',
      severity: 'error',
      comment:
        'The GPU runtime and what it stands on (types, tuning, device, pool, timing) never import the kernel ' +
        "strategies (each family's strategy.ts), the registry, the WebGPU backend or the backend contract " +
        '(src/backend.ts): those sit above it.',
      from: { path: '^src/gpu/(types|tuning|device|pool|timing|runtime)\\.ts$' },
      to: {
        path: '^src/gpu/(backend|strategy|registry)\\.ts$|^src/gpu/(per-sequence|gemm|rtrl)/(strategy|layers)\\.ts$|^src/backend\\.ts$',
      },
    },
    {
      name: 'gpu-plans-below-kernels',
      severity: 'error',
      comment: 'The memory plans fix the buffer layout the kernels read: kernels and strategies import them, not back.',
      from: { path: '^src/gpu/(plan|gemm/plan)\\.ts$' },
      to: {
        path: '^src/gpu/(per-sequence|gemm|rtrl|reduce|optimizer|probes|study)/|^src/gpu/registry\\.ts$',
        pathNot: '^src/gpu/gemm/plan\\.ts$',
      },
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
      comment:
        'Every import resolves (@webgpu/types is declarations only, checked by tsc; a Vite ?url import of a file that a package exports by name, which the resolver matches without the query, is checked by the build).',
      from: {},
      to: { couldNotResolve: true, pathNot: ['^@webgpu/types$', '^onnxruntime-web/[\\w.-]+\\.wasm\\?url$'] },
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
