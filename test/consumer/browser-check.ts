// A user's page code in TypeScript (compiled with `tsc --noEmit` under tsconfig.browser.json here: strict,
// moduleResolution bundler, DOM, no @types/node, no skipLibCheck): the declarations need nothing from Node, and
// webgpu-rnn/formats resolves to its browser build, which has no file functions.
import { batchFromArrays, createEngine, preset, statquestReport, train, type Result } from 'webgpu-rnn';
import { decodeRnnb, encodeRnnb } from 'webgpu-rnn/formats';
// @ts-expect-error the browser build of webgpu-rnn/formats has no file functions
import { readDataFile } from 'webgpu-rnn/formats';

export async function forward(): Promise<Result> {
  const engine = await createEngine({ backend: 'webgpu' });
  const batch = batchFromArrays(
    [
      [[1], [0.5]],
      [[0], [0.5]],
    ],
    null,
    'last',
    1,
  );
  const device: GPUDevice | null = engine.device;
  void device;
  void train;
  void statquestReport;
  void readDataFile;
  return engine.run(
    preset('statquest'),
    decodeRnnb(encodeRnnb(batch), { inputSize: 1, outputSize: 1, output: 'last' }),
    { outputs: true },
  );
}
