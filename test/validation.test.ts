// The library's validation of what it is given: a validated Model is known by construction (a private brand), never
// by a key; every bad option, model or batch is an InputError naming the field; batchFromArrays refuses empty,
// ragged and non-numeric input; unknown keys in model and data JSON are errors with the nearest known key; and
// mismatched output modes and float32 overflow are said as such, naming the files.

import { describe, expect, it } from 'vitest';
import { batchFromArrays, type Batch } from '../src/batch.ts';
import { Engine } from '../src/engine.ts';
import { InputError } from '../src/errors.ts';
import { modelFromJSON, preset, STATQUEST_JSON, type Model, type ModelJSON } from '../src/model.ts';
import { randomModel } from '../src/random.ts';
import { checkFloat32Range, nearest, parseData, parseModel } from '../src/validate.ts';

async function inputError(f: () => unknown): Promise<InputError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw new Error(`expected an InputError, got ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
  }
  throw new Error('expected an InputError, got none');
}

const seedBatch = (): Batch =>
  batchFromArrays(
    [
      [[1], [0.5]],
      [[0], [0.5]],
    ],
    [[0], [1]],
    'last',
  );

describe('a validated model is recognised by construction, not by a key', () => {
  it('model JSON with a "params" key is validated, not taken for a Model (which would give loss 1)', async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    const fake = { ...preset('statquest'), params: [null, null, null, null, null] } as unknown as Model;
    const e = await inputError(() => cpu.run(fake, seedBatch()));
    expect(e.field).toBe('params');
    expect(e.message).toContain('unknown key');
  });

  it('a Model-shaped object is checked in full: params entries, lengths, activation, output, sizes', async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    const good = modelFromJSON(preset('statquest'));
    const plain = { ...good }; // a copy loses the brand
    const bad = async (patch: Record<string, unknown>): Promise<InputError> =>
      inputError(() => cpu.run({ ...plain, ...patch }, seedBatch()));
    expect((await bad({ params: [null, null, null, null, null] })).field).toBe('params[0]');
    expect((await bad({ params: new Float64Array(4) })).message).toContain('params: expected 5 entries, got 4');
    expect((await bad({ params: Float64Array.of(1, 2, NaN, 4, 5) })).field).toBe('params[2]');
    expect((await bad({ activation: 'sigmoid' })).message).toContain(
      'activation: must be one of "relu", "tanh", "identity", got "sigmoid"',
    );
    expect((await bad({ output: 'every' })).field).toBe('output');
    expect((await bad({ hiddenSize: 0 })).field).toBe('hiddenSize');
    expect((await bad({ h0: [1, 2] })).message).toContain('h0: expected 1 entries, got 2');
    // The unbranded copy is fine when it is right, and gives the same loss as the original.
    const a = await cpu.run(plain, seedBatch());
    const b = await cpu.run(good, seedBatch());
    expect(a.loss).toBe(b.loss);
  });

  it('a branded model edited after construction still cannot reach a backend with a bogus activation', async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    const m = modelFromJSON(preset('statquest'));
    (m as { activation: string }).activation = 'gelu';
    expect((await inputError(() => cpu.run(m, seedBatch()))).field).toBe('activation');
    const m2 = modelFromJSON(preset('statquest'));
    m2.params = new Float64Array(7);
    expect((await inputError(() => cpu.run(m2, seedBatch()))).message).toContain('params: expected 5 entries, got 7');
  });

  it('null and non-object models, batches and options are InputErrors naming them', async () => {
    const cpu = await Engine.create({ backend: 'cpu' });
    const m = modelFromJSON(preset('statquest'));
    expect((await inputError(() => cpu.run(null as unknown as Model, seedBatch()))).message).toBe(
      'model: expected a model (model JSON or a Model), got null',
    );
    expect((await inputError(() => cpu.run(42 as unknown as Model, seedBatch()))).message).toBe(
      'model: expected a model object, got the number 42',
    );
    expect((await inputError(() => cpu.run(m, null as unknown as Batch))).message).toBe(
      'batch: expected a batch, got null',
    );
    expect((await inputError(() => cpu.run(m, { ...seedBatch(), lengths: [2, 2] } as unknown as Batch))).field).toBe(
      'lengths',
    );
    expect(
      (await inputError(() => cpu.run(m, { ...seedBatch(), inputs: [1, 0.5, 0, 0.5] } as unknown as Batch))).message,
    ).toContain('inputs: expected a Float32Array or Float64Array, got an array');
    expect((await inputError(() => cpu.run(m, seedBatch(), null as never))).field).toBe('options');
  });

  it('engine options: memoryBudget NaN, a negative or fractional budget, an unknown backend or precision', async () => {
    for (const memoryBudget of [NaN, -1, 0.5, Infinity, '1M']) {
      const e = await inputError(() =>
        Engine.create({ backend: 'cpu', gpu: { memoryBudget: memoryBudget as number } }),
      );
      expect(e.field).toBe('gpu.memoryBudget');
    }
    expect((await inputError(() => Engine.create({ backend: 'gpu' as never }))).message).toBe(
      'options: backend: must be "webgpu", "cpu" or "auto", got the string "gpu"',
    );
    expect((await inputError(() => Engine.create({ backend: 'cpu', cpuPrecision: 'f16' as never }))).field).toBe(
      'cpuPrecision',
    );
    expect((await inputError(() => Engine.create(null as never))).source).toBe('options');
  });
});

describe('batchFromArrays refuses what it would otherwise drop or crash on', () => {
  it('an empty batch, an empty sequence, a ragged step, ragged targets, non-numbers', async () => {
    expect((await inputError(() => batchFromArrays([], null, 'last'))).message).toBe(
      'data: inputs: the batch is empty: it needs at least one sequence',
    );
    expect((await inputError(() => batchFromArrays([[[1]], []], null, 'last'))).field).toBe('inputs[1]');
    // A step with an extra value is refused, not dropped.
    expect(
      (
        await inputError(() =>
          batchFromArrays(
            [
              [
                [1, 2],
                [3, 4, 5],
              ],
            ],
            null,
            'last',
          ),
        )
      ).message,
    ).toBe('data: inputs[0][1]: expected 2 values (as in the first row), got 3');
    expect((await inputError(() => batchFromArrays([[[1, 2]], [[3]]], null, 'last'))).field).toBe('inputs[1][0]');
    expect((await inputError(() => batchFromArrays([[[1]], [[2]]], [[0], [0, 1]], 'last'))).field).toBe('targets[1]');
    expect((await inputError(() => batchFromArrays([[[1]], [[2]]], [[0]], 'last'))).message).toContain(
      'targets: expected 2 entries (one per sequence), got 1',
    );
    expect((await inputError(() => batchFromArrays([[[1], [2]]], [[[0]]], 'all'))).message).toContain(
      'targets[0]: expected 2 steps (as inputs[0]), got 1',
    );
    expect((await inputError(() => batchFromArrays([[[1], ['x' as unknown as number]]], null, 'last'))).field).toBe(
      'inputs[0][1][0]',
    );
    expect((await inputError(() => batchFromArrays(null as never, null, 'last'))).field).toBe('inputs');
    // A well-formed batch still builds, with the values where they belong.
    const b = batchFromArrays(
      [
        [
          [1, 2],
          [3, 4],
        ],
        [[5, 6]],
      ],
      [[[7], [8]], [[9]]],
      'all',
    );
    expect(Array.from(b.inputs)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(b.targets!)).toEqual([7, 8, 9]);
  });
});

describe('unknown keys are errors that suggest the nearest known key', () => {
  const model = (): Record<string, unknown> => JSON.parse(JSON.stringify(STATQUEST_JSON)) as Record<string, unknown>;

  it('model JSON: Output, h_0, weights.wx, a key with no near match', async () => {
    expect((await inputError(() => parseModel({ ...model(), Output: 'all' }, 'm.json'))).message).toBe(
      'm.json: Output: unknown key (did you mean "output"?)',
    );
    expect((await inputError(() => parseModel({ ...model(), h_0: [1] }, 'm.json'))).message).toBe(
      'm.json: h_0: unknown key (did you mean "h0"?)',
    );
    expect((await inputError(() => parseModel({ ...model(), hidden_size: 1 }))).message).toContain(
      'did you mean "hiddenSize"?',
    );
    const w = model();
    (w.weights as Record<string, unknown>).wx = [[1]];
    expect((await inputError(() => parseModel(w))).message).toBe('model: weights.wx: unknown key (did you mean "Wx"?)');
    const far = await inputError(() => parseModel({ ...model(), comment: 'mine' }));
    expect(far.field).toBe('comment');
    expect(far.message).toContain('known keys: "inputSize", "hiddenSize"');
  });

  it('data JSON: "target", "input", an extra key', async () => {
    const m = preset('statquest');
    expect((await inputError(() => parseData({ inputs: [[[1]]], target: [[0]] }, m, 'd.json'))).message).toBe(
      'd.json: target: unknown key (did you mean "targets"?)',
    );
    expect((await inputError(() => parseData({ input: [[[1]]] }, m, 'd.json'))).message).toBe(
      'd.json: input: unknown key (did you mean "inputs"?)',
    );
    expect((await inputError(() => parseData({ inputs: [[[1]]], meta: {} }, m))).field).toBe('meta');
  });

  it('a missing key is worded as missing, and kinds read properly', async () => {
    expect((await inputError(() => parseData({}, preset('statquest')))).message).toBe(
      'data: inputs: missing: expected an array',
    );
    const noWeights = model();
    delete noWeights.weights;
    expect((await inputError(() => parseModel(noWeights))).message).toBe('model: weights: missing: expected an object');
    expect((await inputError(() => parseModel({ ...model(), inputSize: '1' }))).message).toBe(
      'model: inputSize: expected a number, got the string "1"',
    );
    expect((await inputError(() => parseData({ inputs: {} }, preset('statquest')))).message).toBe(
      'data: inputs: expected an array, got an object',
    );
  });

  it('nearest() picks by case-insensitive edit distance and gives up when nothing is close', () => {
    expect(nearest('OUTPUT', ['output', 'outputSize'])).toBe('output');
    expect(nearest('targest', ['inputs', 'targets'])).toBe('targets');
    expect(nearest('zzzzzz', ['inputs', 'targets'])).toBeNull();
  });
});

describe('messages that say what differs', () => {
  it('an "all" model with "last" data (and the reverse) says the output modes differ', async () => {
    const all = randomModel({ inputSize: 1, hiddenSize: 2, outputSize: 2 }, 'tanh', 'all', 1);
    const e = await inputError(() => parseData({ inputs: [[[1], [2]]], targets: [[0, 1]] }, all, 'd.json'));
    expect(e.message).toBe(
      'd.json: targets: the output modes differ: the data has one target per sequence (output "last") but the model\'s output is "all"',
    );
    const last = { ...all, output: 'last' as const };
    const r = await inputError(() =>
      parseData(
        {
          inputs: [[[1], [2]]],
          targets: [
            [
              [0, 1],
              [1, 0],
            ],
          ],
        },
        last,
        'd.json',
      ),
    );
    expect(r.message).toContain(
      'the output modes differ: the data has one target per step (output "all") but the model\'s output is "last"',
    );
  });

  it('the float32-range check names the files it is given', async () => {
    const json: ModelJSON = {
      ...preset('statquest'),
      weights: { Wx: [[1e300]], Wh: [[0]], bh: [0], Wy: [[1]], by: [0] },
    };
    const e = await inputError(() => checkFloat32Range(modelFromJSON(json), seedBatch(), 'd.json', 'm.json'));
    expect(e.message).toBe(
      'm.json: weights.Wx[0][0]: 1e+300 overflows float32 (the WebGPU backend computes in float32)',
    );
    const b = seedBatch();
    b.inputs[3] = -1e39;
    const d = await inputError(() => checkFloat32Range(modelFromJSON(preset('statquest')), b, 'd.json', 'm.json'));
    expect(d.message).toBe(
      'd.json: inputs[1][1][0]: -1e+39 overflows float32 (the WebGPU backend computes in float32)',
    );
  });
});
