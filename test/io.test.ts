// File formats: the seeded generators, model/data JSON reading, the binary RNNB format (round trips and every
// validation error), JSON parse-error positions and atomic writes.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inputError, tempFiles } from './helpers/files.ts';
import type { Batch } from '../src/batch.ts';
import { InputError } from '../src/errors.ts';
import {
  decodeRnnb,
  encodeRnnb,
  readDataFile,
  readModelFile,
  writeBinaryData,
  writeDataFile,
  writeJsonData,
  writeRandomData,
  writeRandomRnnbFile,
  RNNB_HEADER_BYTES,
} from '../src/io/files.ts';
import { jsonErrorOffset, lineColumn, parseJsonText } from '../src/io/json-error.ts';
import { STATQUEST_JSON, type ModelJSON, type OutputMode } from '../src/model.ts';
import { mulberry32, randomBatch, randomModel, Rng, streamRandomBatch } from '../src/random.ts';

const { dir, tmp } = tempFiles('webgpu-rnn-io-');

const model = (output: OutputMode, I = 2, O = 3): ModelJSON =>
  randomModel({ inputSize: I, hiddenSize: 4, outputSize: O }, 'tanh', output, 11);

function expectSameBatch(a: Batch, b: Batch): void {
  expect(a.count).toBe(b.count);
  expect(a.inputSize).toBe(b.inputSize);
  expect(a.output).toBe(b.output);
  expect(Array.from(a.lengths)).toEqual(Array.from(b.lengths));
  expect(Array.from(a.offsets)).toEqual(Array.from(b.offsets));
  expect(Array.from(a.inputs)).toEqual(Array.from(b.inputs));
  if (a.targets === null || b.targets === null) expect(a.targets).toBe(b.targets);
  else {
    expect(a.outputSize).toBe(b.outputSize);
    expect(Array.from(a.targets)).toEqual(Array.from(b.targets));
  }
}

describe('seeded random models and batches', () => {
  it('mulberry32 follows the reference algorithm and is deterministic', () => {
    const r = new Rng(0);
    const first = [r.nextUint32(), r.nextUint32(), r.nextUint32()];
    const again = new Rng(0);
    expect([again.nextUint32(), again.nextUint32(), again.nextUint32()]).toEqual(first);
    const f = mulberry32(0);
    expect(f()).toBe(first[0] / 2 ** 32);
    // Reference: t = 0x6d2b79f5; t = imul(t ^ t>>>15, t|1); t ^= t + imul(t ^ t>>>7, t|61); (t ^ t>>>14)>>>0
    let t = 0x6d2b79f5;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    expect(first[0]).toBe((t ^ (t >>> 14)) >>> 0);
    expect(new Set(first).size).toBe(3);
  });

  it('randomModel is deterministic, within ±scale, float32-representable and valid', () => {
    const shape = { inputSize: 3, hiddenSize: 5, outputSize: 2 };
    const a = randomModel(shape, 'relu', 'all', 42, 0.25);
    expect(randomModel(shape, 'relu', 'all', 42, 0.25)).toEqual(a);
    expect(randomModel(shape, 'relu', 'all', 43, 0.25)).not.toEqual(a);
    const values: number[] = [a.weights.Wx, a.weights.Wh, a.weights.bh, a.weights.Wy, a.weights.by].flat(2);
    expect(values.length).toBe(3 * 5 + 5 * 5 + 5 + 2 * 5 + 2);
    for (const v of values) {
      expect(Math.abs(v)).toBeLessThanOrEqual(0.25);
      expect(Math.fround(v)).toBe(v);
    }
    const path = tmp('random-model.json');
    writeFileSync(path, JSON.stringify(a));
    expect(readModelFile(path)).toEqual(a); // passes parseModel unchanged
  });

  it('randomBatch is deterministic and respects count, lengths and targets', () => {
    const opts = {
      count: 50,
      inputSize: 2,
      outputSize: 3,
      output: 'all' as const,
      minLength: 3,
      maxLength: 7,
      seed: 9,
    };
    const a = randomBatch(opts);
    expectSameBatch(randomBatch(opts), a);
    expect(a.inputs).toBeInstanceOf(Float64Array);
    expect(a.count).toBe(50);
    const lengths = Array.from(a.lengths);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(7);
    expect(new Set(lengths).size).toBeGreaterThan(1);
    const steps = lengths.reduce((s, v) => s + v, 0);
    expect(a.inputs.length).toBe(steps * 2);
    expect(a.targets!.length).toBe(steps * 3);
    for (const v of [...a.inputs, ...a.targets!]) {
      expect(Math.abs(v)).toBeLessThanOrEqual(1);
      expect(Math.fround(v)).toBe(v);
    }
    // Without targets the lengths and inputs are the same draws.
    const b = randomBatch({ ...opts, withTargets: false });
    expect(b.targets).toBeNull();
    expect(Array.from(b.inputs)).toEqual(Array.from(a.inputs));
    expect(Array.from(b.lengths)).toEqual(lengths);
    const last = randomBatch({ ...opts, output: 'last' });
    expect(last.targets!.length).toBe(50 * 3);
    expect(() => randomBatch({ ...opts, minLength: 8 })).toThrow(RangeError);
    expect(() => randomBatch({ ...opts, count: 0 })).toThrow(RangeError);
  });
});

describe('streamed random data', () => {
  it('streamRandomBatch yields exactly randomBatch, whatever the chunk size', () => {
    const opts = {
      count: 37,
      inputSize: 3,
      outputSize: 2,
      output: 'all' as const,
      minLength: 1,
      maxLength: 9,
      seed: 12,
    };
    const whole = randomBatch(opts);
    const inputs: number[] = [];
    const targets: number[] = [];
    let lengths: number[] = [];
    const steps = streamRandomBatch(
      opts,
      {
        lengths: (l) => (lengths = Array.from(l)),
        inputs: (c) => inputs.push(...c),
        targets: (c) => targets.push(...c),
      },
      7,
    );
    expect(steps).toBe(whole.offsets[37]);
    expect(lengths).toEqual(Array.from(whole.lengths));
    expect(inputs).toEqual(Array.from(whole.inputs));
    expect(targets).toEqual(Array.from(whole.targets!));
  });

  it('writeRandomRnnbFile and writeRandomData give the same bytes as writing randomBatch', () => {
    for (const withTargets of [true, false]) {
      const opts = {
        count: 50,
        inputSize: 2,
        outputSize: 3,
        output: 'last' as const,
        minLength: 2,
        maxLength: 8,
        seed: 99,
        withTargets,
      };
      const a = tmp('streamed.rnnb');
      const b = tmp('whole.rnnb');
      const c = tmp('via-files.rnnb');
      writeRandomRnnbFile(a, opts);
      writeBinaryData(b, randomBatch(opts));
      expect(writeRandomData(c, opts).steps).toBe(randomBatch(opts).offsets[50]);
      expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
      expect(readFileSync(c).equals(readFileSync(b))).toBe(true);
      const j = tmp('gen.json');
      writeRandomData(j, opts);
      expectSameBatch(readDataFile(j, model('last')), randomBatch(opts));
    }
  });
});

describe('model files', () => {
  it('reads a valid model file and the statquest preset when no such file exists', () => {
    const m = model('last');
    const path = tmp('model.json');
    writeFileSync(path, JSON.stringify(m, null, 2));
    expect(readModelFile(path)).toEqual(m);
    expect(readModelFile('statquest')).toEqual(STATQUEST_JSON);
  });

  it('missing file: InputError with empty field, the path as source, "file not found"', () => {
    const path = join(dir, 'no-such-model.json');
    const e = inputError(() => readModelFile(path));
    expect(e.field).toBe('');
    expect(e.source).toBe(path);
    expect(e.message).toBe(`${path}: file not found`);
  });

  it('invalid JSON names the file, line and column', () => {
    const path = tmp('broken.json');
    writeFileSync(path, '{\n  "inputSize": 1,\n  "hiddenSize": ,\n}');
    const e = inputError(() => readModelFile(path));
    expect(e.source).toBe(path);
    expect(e.message).toContain(path);
    expect(e.message).toContain('line 3, column 17');
  });

  it('unknown activation and output mode name their fields', () => {
    const path = tmp('bad-activation.json');
    writeFileSync(path, JSON.stringify({ ...model('last'), activation: 'sigmoid' }));
    expect(inputError(() => readModelFile(path)).field).toBe('activation');
    const path2 = tmp('bad-output.json');
    writeFileSync(path2, JSON.stringify({ ...model('last'), output: 'first' }));
    expect(inputError(() => readModelFile(path2)).field).toBe('output');
  });
});

describe('JSON parse-error positions', () => {
  it('finds the first invalid character', () => {
    expect(jsonErrorOffset('{"a": }')).toBe(6);
    expect(jsonErrorOffset('[1, 2')).toBe(5);
    expect(jsonErrorOffset('[1, 2] x')).toBe(7);
    expect(jsonErrorOffset('')).toBe(0);
    expect(jsonErrorOffset('[01]')).toBe(2);
    expect(jsonErrorOffset('{"a": [1, {"b": tru}]}')).toBe(19);
    expect(jsonErrorOffset('{"a": [1, {"b": true}]}')).toBe(-1);
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect(() => parseJsonText('[1,\n2,\n]')).toThrow('invalid JSON at line 3, column 1');
    expect(parseJsonText('\ufeff[1]')).toEqual([1]);
  });

  it('agrees with JSON.parse on mutated JSON texts', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.nat(),
        fc.constantFrom('', '}', ']', ',', ':', '"', '1', 'e', '-', ' ', '.'),
        fc.boolean(),
        (v, at, ins, cut) => {
          const s = JSON.stringify(v);
          const k = s.length ? at % (s.length + 1) : 0;
          const text = cut ? s.slice(0, k) + ins : s.slice(0, k) + ins + s.slice(k);
          let valid = true;
          try {
            JSON.parse(text);
          } catch {
            valid = false;
          }
          expect(jsonErrorOffset(text) === -1).toBe(valid);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('data files', () => {
  for (const output of ['last', 'all'] as const) {
    for (const withTargets of [true, false]) {
      it(`RNNB and JSON round trips are exact (${output}, ${withTargets ? 'targets' : 'no targets'})`, () => {
        const m = model(output);
        const batch = randomBatch({
          count: 23,
          inputSize: 2,
          outputSize: 3,
          output,
          minLength: 1,
          maxLength: 6,
          seed: 5,
          withTargets,
        });
        const bin = tmp('data.rnnb');
        const json = tmp('data.json');
        writeBinaryData(bin, batch);
        writeJsonData(json, batch);
        const fromBin = readDataFile(bin, m);
        const fromJson = readDataFile(json, m);
        expect(fromBin.inputs).toBeInstanceOf(Float32Array);
        expect(fromJson.inputs).toBeInstanceOf(Float64Array);
        expectSameBatch(fromBin, batch);
        expectSameBatch(fromJson, batch);
        expectSameBatch(fromBin, fromJson);
        // Size is exactly header + lengths + values.
        const steps = batch.offsets[batch.count];
        const targets = withTargets ? (output === 'last' ? 23 : steps) * 3 : 0;
        expect(readFileSync(bin).length).toBe(32 + 4 * 23 + 4 * steps * 2 + 4 * targets);
        // In-memory encoding is the same bytes.
        expect(Buffer.from(encodeRnnb(batch)).equals(readFileSync(bin))).toBe(true);
      });
    }
  }

  it('detects RNNB by magic bytes whatever the extension; writeDataFile picks the format by extension', () => {
    const m = model('last');
    const batch = randomBatch({
      count: 4,
      inputSize: 2,
      outputSize: 3,
      output: 'last',
      minLength: 2,
      maxLength: 3,
      seed: 1,
    });
    const bin = tmp('data.bin');
    writeDataFile(bin, batch); // not .json: RNNB
    expect(readFileSync(bin).subarray(0, 4).toString('latin1')).toBe('RNNB');
    expectSameBatch(readDataFile(bin, m), batch);
    const json = tmp('data.json');
    writeDataFile(json, batch);
    expect((JSON.parse(readFileSync(json, 'utf8')) as { inputs: unknown[] }).inputs.length).toBe(4);
  });

  it('a .rnnb file that is not RNNB is rejected by its magic', () => {
    const path = tmp('fake.rnnb');
    writeFileSync(path, '{"inputs": [[[1, 2]]]}');
    const e = inputError(() => readDataFile(path, model('last')));
    expect(e.field).toBe('magic');
    expect(e.source).toBe(path);
  });

  it('JSON data errors name field and index', () => {
    const m = model('last', 1, 1);
    const cases: [unknown, string][] = [
      [{ inputs: [[[1], [Infinity]]] }, 'inputs[0][1][0]'],
      [{ inputs: [[[1]], [[1, 2]]] }, 'inputs[1][0]'],
      [{ inputs: [] }, 'inputs'],
      [{ inputs: [[[1]], []] }, 'inputs[1]'],
      [{ inputs: [[[1]]], targets: [[1, 2]] }, 'targets[0]'],
    ];
    for (const [data, field] of cases) {
      const path = tmp('bad-data.json');
      writeFileSync(path, JSON.stringify(data).replace('null', '1e999'));
      expect(inputError(() => readDataFile(path, m)).field).toBe(field);
    }
  });
});

describe('RNNB validation', () => {
  const m = model('all', 2, 3);
  const batch = randomBatch({
    count: 5,
    inputSize: 2,
    outputSize: 3,
    output: 'all',
    minLength: 2,
    maxLength: 4,
    seed: 3,
  });
  const good = encodeRnnb(batch);
  const steps = batch.offsets[5];
  const expectedSize = 32 + 4 * 5 + 4 * steps * 2 + 4 * steps * 3;
  const withU32 = (offset: number, value: number): Uint8Array => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(offset, value, true);
    return b;
  };
  const withF32 = (offset: number, value: number): Uint8Array => {
    const b = good.slice();
    new DataView(b.buffer).setFloat32(offset, value, true);
    return b;
  };
  const err = (bytes: Uint8Array, model: ModelJSON = m): InputError =>
    inputError(() => decodeRnnb(bytes, model, 'f.rnnb'));

  it('decodes the good bytes', () => {
    expect(good.length).toBe(expectedSize);
    expectSameBatch(decodeRnnb(good, m), batch);
  });

  it('rejects bad headers, naming the field', () => {
    const magic = good.slice();
    magic[0] = 0x58;
    expect(err(magic).field).toBe('magic');
    expect(err(new Uint8Array(0)).field).toBe('magic');
    expect(err(good.slice(0, 20)).message).toContain('expected at least 32 bytes for the header, got 20');
    expect(err(withU32(4, 2)).field).toBe('version');
    expect(err(withU32(8, 0)).field).toBe('count');
    expect(err(withU32(8, 0)).message).toContain('empty');
    expect(err(withU32(12, 1)).field).toBe('inputSize');
    expect(err(withU32(16, 2)).field).toBe('outputSize');
    expect(err(withU32(20, 0)).field).toBe('mode'); // "last" targets for an "all" model
    expect(err(withU32(20, 7)).field).toBe('mode');
    expect(err(withU32(24, 3)).field).toBe('flags');
    expect(err(withU32(28, 1)).field).toBe('reserved');
    expect(err(good, model('all', 5, 3)).field).toBe('inputSize');
    expect(err(good, model('last', 2, 3)).field).toBe('mode');
  });

  it('rejects a zero length as lengths[n]', () => {
    const e = err(withU32(RNNB_HEADER_BYTES + 4 * 3, 0));
    expect(e.field).toBe('lengths[3]');
  });

  it('reports truncation and trailing bytes with expected and actual sizes', () => {
    const short = err(good.slice(0, good.length - 4));
    expect(short.field).toBe('targets');
    expect(short.message).toContain(`expected ${expectedSize} bytes`);
    expect(short.message).toContain(`got ${expectedSize - 4}`);
    expect(err(good.slice(0, 40)).field).toBe('lengths');
    expect(err(good.slice(0, 60)).field).toBe('inputs');
    const long = new Uint8Array(good.length + 3);
    long.set(good);
    const e = err(long);
    expect(e.message).toContain('3 trailing bytes');
    expect(e.message).toContain(`expected ${expectedSize} bytes, got ${expectedSize + 3}`);
    // A longer length table claims more data than the file holds.
    expect(err(withU32(RNNB_HEADER_BYTES, 1000)).message).toContain('truncated');
  });

  it('rejects non-finite inputs and targets by index', () => {
    const inputsAt = RNNB_HEADER_BYTES + 4 * 5;
    // Step 1 of sequence 1 is global step lengths[0] + 1.
    const step = batch.lengths[0] + 1;
    expect(err(withF32(inputsAt + 4 * (step * 2 + 1), NaN)).field).toBe('inputs[1][1][1]');
    const targetsAt = inputsAt + 4 * steps * 2;
    expect(err(withF32(targetsAt + 4 * (batch.offsets[2] * 3 + 2), Infinity)).field).toBe('targets[2][0][2]');
    // "last": targets[n][o].
    const lastBatch = randomBatch({
      count: 3,
      inputSize: 2,
      outputSize: 3,
      output: 'last',
      minLength: 1,
      maxLength: 2,
      seed: 4,
    });
    const bytes = encodeRnnb(lastBatch);
    new DataView(bytes.buffer).setFloat32(bytes.length - 4, -Infinity, true);
    expect(inputError(() => decodeRnnb(bytes, model('last', 2, 3))).field).toBe('targets[2][2]');
  });

  it('without targets, O and mode are not checked (the data fits any model with the same I)', () => {
    const noTargets = randomBatch({
      count: 3,
      inputSize: 2,
      outputSize: 3,
      output: 'all',
      minLength: 1,
      maxLength: 2,
      seed: 4,
      withTargets: false,
    });
    const decoded = decodeRnnb(encodeRnnb(noTargets), model('last', 2, 1));
    expect(decoded.targets).toBeNull();
    expect(decoded.output).toBe('last');
    expect(Array.from(decoded.inputs)).toEqual(Array.from(noTargets.inputs));
  });
});

describe('atomic writes', () => {
  it('a failed write leaves neither the file nor a temporary file, and keeps an existing file intact', () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    const batch = randomBatch({
      count: 3,
      inputSize: 1,
      outputSize: 1,
      output: 'last',
      minLength: 2,
      maxLength: 2,
      seed: 2,
    });
    const bad: Batch = { ...batch, inputs: Float64Array.from(batch.inputs) };
    bad.inputs[3] = 1e39; // finite in float64, overflows float32
    const path = join(sub, 'out.rnnb');
    const e = inputError(() => writeBinaryData(path, bad));
    expect(e.field).toBe('inputs[1][1][0]');
    expect(readdirSync(sub)).toEqual([]);
    writeBinaryData(path, batch);
    const before = readFileSync(path);
    inputError(() => writeBinaryData(path, bad));
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(sub)).toEqual(['out.rnnb']);
    // JSON cannot hold Infinity either.
    const inf: Batch = { ...batch, inputs: Float64Array.from(batch.inputs) };
    inf.inputs[0] = Infinity;
    expect(inputError(() => writeJsonData(join(sub, 'x.json'), inf)).field).toBe('inputs[0][0][0]');
    expect(existsSync(join(sub, 'x.json'))).toBe(false);
  });

  it('writing into a missing directory is an InputError naming the file', () => {
    const path = join(dir, 'missing-dir', 'out.rnnb');
    const batch = randomBatch({ count: 1, inputSize: 1, outputSize: 1, output: 'last', seed: 1 });
    const e = inputError(() => writeDataFile(path, batch));
    expect(e.source).toBe(path);
  });
});
