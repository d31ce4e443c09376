// A user's plain Node ES module script (copied into a fresh project that installed the packed package, and run by
// test/consumer.test.ts): the seed notes' network on the backend named in argv[2], through every public entry.
// Prints one JSON line (with the engine's fallbackReason, for `auto`); the test checks the numbers against the
// notes' closed forms.
import { batchFromArrays, createEngine, modelToJSON, preset } from 'webgpu-rnn';
import { decodeRnnb, encodeRnnb, parseModel, readDataFile, writeDataFile } from 'webgpu-rnn/formats';
import { seedData } from 'webgpu-rnn/data';
import { train } from 'webgpu-rnn/training';
import { statquestReport } from 'webgpu-rnn/experiments';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const engine = await createEngine({ backend: process.argv[2] });
const model = parseModel(preset('statquest'));
// The notes' two sequences: [1, 0.5] → 0 and [0, 0.5] → 1.
const batch = batchFromArrays(
  [
    [[1], [0.5]],
    [[0], [0.5]],
  ],
  [[0], [1]],
  'last',
);
const run = await engine.run(model, batch, { outputs: true, gradients: true });

// The same batch through .rnnb bytes and through a data file of each format.
const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-consumer-'));
const roundTrips = {};
try {
  roundTrips.bytes = Array.from(decodeRnnb(encodeRnnb(batch), model).inputs);
  for (const ext of ['json', 'rnnb']) {
    writeDataFile(join(dir, `data.${ext}`), batch);
    const back = readDataFile(join(dir, `data.${ext}`), model);
    roundTrips[ext] = { inputs: Array.from(back.inputs), targets: Array.from(back.targets) };
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// One plain SGD step (lr 0.5) from the notes' weights.
const trained = await train(engine, model, batch, { optimizer: { kind: 'sgd', lr: 0.5 }, steps: 1 });
const report = await statquestReport(engine);

const g = run.grads;
console.log(
  JSON.stringify({
    backend: engine.backend,
    adapter: engine.adapter,
    fallbackReason: engine.fallbackReason,
    loss: run.loss,
    outputs: Array.from(run.outputs),
    grads: { w1: g.Wx[0][0], b1: g.bh[0], w2: g.Wh[0][0], w3: g.Wy[0][0], b2: g.by[0] },
    roundTrips,
    seedData: { inputs: Array.from(seedData().batch.inputs), targets: Array.from(seedData().batch.targets) },
    trainedW1: modelToJSON(trained.model).weights.Wx[0][0],
    report: { predicted: report.forward.map((f) => f.predicted), ssr: report.ssr.ssr },
  }),
);
engine.dispose();
process.exit(0); // Dawn can keep Node alive
