// The experiment commands on WebGPU (SwiftShader here): unroll-study equals the closed form and refuses float32
// overflow (exit 3); landscape equals the float64 CPU reference at sampled grid points; population members equal
// the same models trained alone.

import { expect, it } from 'vitest';
import { cli, json } from './helpers/cli.ts';
import { describeGpu } from './helpers/gpu.ts';
import type { LandscapeReport, PopulationReport, UnrollStudyReport } from './helpers/reports.ts';

await describeGpu('experiment commands on WebGPU', () => {
  it('unroll-study on WebGPU equals the closed form and exits 3 on float32 overflow', async () => {
    const rep = await json<UnrollStudyReport>(
      'unroll-study',
      '--backend',
      'webgpu',
      '--length',
      '30',
      '--w2',
      '-1.2:1.2:5',
    );
    expect(rep.backend).toBe('webgpu');
    expect(rep.closedFormCheck!.failures).toBe(0);
    const r = await cli('unroll-study', '--backend', 'webgpu', '--length', '60', '--w2', '10');
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
  });

  it('landscape on WebGPU equals the CPU reference at sampled points', async () => {
    const rep = await json<LandscapeReport>('landscape', '--backend', 'webgpu', '--grid', '33x17', '--check', '40');
    expect(rep.backend).toBe('webgpu');
    expect(rep.check.failures).toBe(0);
  });

  it('population on WebGPU: models retrained alone on WebGPU are bit-identical, and agree with the CPU', async () => {
    const rep = await json<PopulationReport>(
      'population',
      '--backend',
      'webgpu',
      '--count',
      '40',
      '--steps',
      '150',
      '--check',
      '4',
    );
    expect(rep.backend).toBe('webgpu');
    expect(rep.check.sameBackend).toMatchObject({ backend: 'webgpu', identical: 4, agree: 4 });
    expect(rep.check.cpu!.agree).toBe(4);
  });
});
