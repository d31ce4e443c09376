// A user's page script: the seed notes' forward pass on WebGPU (navigator.gpu) through the package's browser
// entries, published on window.consumerResult for test/consumer.test.ts to check.
import { batchFromArrays, createEngine, preset } from 'webgpu-rnn';
import { decodeRnnb, encodeRnnb, parseModel } from 'webgpu-rnn/formats';
import { scalarModel, statquestWeights } from 'webgpu-rnn/experiments';

async function main() {
  const engine = await createEngine({ backend: 'webgpu' });
  const days = [
    [[1], [0.5]],
    [[0], [0.5]],
  ];
  // The batch goes through the in-memory .rnnb codec (the browser build of webgpu-rnn/formats) on its way.
  const batch = decodeRnnb(encodeRnnb(batchFromArrays(days, null, 'last', 1)), parseModel(preset('statquest')));
  const run = await engine.run(preset('statquest'), batch, { outputs: true });
  // Hidden states: the same network with w3 = 1, b2 = 0 and an output at every step emits h_t itself.
  const hiddenModel = scalarModel({ ...statquestWeights(), w3: 1, b2: 0 }, 'relu', 'all');
  const hidden = await engine.run(hiddenModel, batchFromArrays(days, null, 'all', 1), { outputs: true });
  return {
    backend: engine.backend,
    adapter: engine.adapter,
    predicted: Array.from(run.outputs),
    hidden: Array.from(hidden.outputs),
  };
}

main().then(
  (r) => {
    window.consumerResult = r;
    document.getElementById('out').textContent = JSON.stringify(r, null, 2);
  },
  (e) => {
    window.consumerResult = { error: String(e?.message ?? e) };
    document.getElementById('out').textContent = String(e?.stack ?? e);
  },
);
