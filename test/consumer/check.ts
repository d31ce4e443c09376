// A user's TypeScript module (compiled with `tsc --noEmit` under tsconfig.json here: strict, module and
// moduleResolution nodenext, no skipLibCheck) in a fresh project that installed the packed package: the engine,
// training, formats, data and experiments entries with their declared types.
import {
  batchFromArrays,
  createEngine,
  InputError,
  preset,
  type Batch,
  type Engine,
  type ModelJSON,
  type Result,
} from 'webgpu-rnn';
import { decodeRnnb, encodeRnnb, parseModel, readDataFile, writeDataFile, type DataFormat } from 'webgpu-rnn/formats';
import { seedData, sineData, type DataSet } from 'webgpu-rnn/data';
import { train, trainPopulation, type TrainOptions, type TrainReport } from 'webgpu-rnn/training';
import { statquestReport, unrollStudyCpu, type StatquestReport } from 'webgpu-rnn/experiments';

export async function notes(
  backend: 'cpu' | 'webgpu',
): Promise<{ result: Result; report: TrainReport; statquest: StatquestReport }> {
  const engine: Engine = await createEngine({ backend });
  const model: ModelJSON = parseModel(preset('statquest'));
  const batch: Batch = batchFromArrays(
    [
      [[1], [0.5]],
      [[0], [0.5]],
    ],
    [[0], [1]],
    'last',
  );
  const result = await engine.run(model, batch, { gradients: true, outputs: true });
  const loss: number | null = result.loss;
  const device: GPUDevice | null = engine.device; // WebGPU types reach the consumer through the package
  void loss;
  void device;
  const options: TrainOptions = { optimizer: { kind: 'adam', lr: 0.05 }, steps: 10 };
  const report = await train(engine, model, batch, options);
  await trainPopulation(engine, [model, model], batch, { ...options, lrs: [0.01, 0.02] });
  const bytes: Uint8Array = encodeRnnb(batch);
  const again: Batch = decodeRnnb(bytes, model);
  const format: DataFormat = 'rnnb';
  writeDataFile(`out.${format}`, again);
  readDataFile(`out.${format}`, model);
  const data: DataSet = sineData({ count: 4, length: 8, seed: 1 });
  const seed: DataSet = seedData();
  void data;
  void seed;
  unrollStudyCpu({ inputs: [1, 0.5], w2: [-0.5, 0.5] });
  // @ts-expect-error the declarations are real types, not `any`: no such backend
  await createEngine({ backend: 'tpu' });
  const statquest = await statquestReport(engine);
  try {
    parseModel({ inputSize: 'x' });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const field: string = e.field;
    void field;
  }
  engine.dispose();
  return { result, report, statquest };
}
