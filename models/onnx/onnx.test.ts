import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { featurize } from '../features/index.js';
import { GIBBERISH, syntheticIntents } from '../model/fixtures/synthetic-intents.js';
import { forward, type TrainedModel, trainIntentModel } from '../model/index.js';
import { onnx } from '../../proto/index.js';
import {
  createOnnxSession,
  exportOnnx,
  IR_VERSION,
  OnnxModelError,
  OPSET_VERSION,
  packBatch,
  readOnnxMetadata,
  runOnnx,
} from './index.js';

const data = syntheticIntents();
const texts = [...data.train, ...data.validation, ...data.test]
  .map((e) => e.text)
  .concat(GIBBERISH, ['', 'time', 'ok']);

let model: TrainedModel;
let fp32: Uint8Array;
let int8: Uint8Array;

before(async () => {
  model = await trainIntentModel(data, {
    features: { buckets: 2 ** 13 },
    dim: 32,
    hidden: 64,
    maxEpochs: 25,
    batchSize: 8,
    learningRate: 0.01,
    embeddingLearningRate: 0.05,
    seed: 21,
  });
  fp32 = exportOnnx(model, { modelVersion: '7' });
  int8 = exportOnnx(model, { precision: 'int8', modelVersion: '7' });
});

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** The INT8 export's answers against FP32's on `ids`: texts with the same argmax, and the largest |Δp|. */
async function int8AgainstFp32(ids: readonly Uint32Array[]): Promise<{ agree: number; worst: number }> {
  const [expected, actual] = await Promise.all([
    runOnnx(await createOnnxSession(fp32), ids),
    runOnnx(await createOnnxSession(int8), ids),
  ]);
  let agree = 0;
  let worst = 0;
  actual.forEach((probabilities, i) => {
    if (argmax(probabilities) === argmax(expected[i]!)) agree++;
    for (let c = 0; c < probabilities.length; c++) {
      worst = Math.max(worst, Math.abs(probabilities[c]! - expected[i]![c]!));
    }
  });
  return { agree, worst };
}

describe('onnx export', () => {
  it('onnx - the FP32 export matches the TypeScript forward pass within 1e-4', async () => {
    const session = await createOnnxSession(fp32);
    const ids = texts.map((text) => featurize(text, model.features));
    const outputs = await runOnnx(session, ids);
    let worst = 0;
    outputs.forEach((probabilities, i) => {
      const expected = forward(model, ids[i]!);
      assert.equal(probabilities.length, expected.length);
      for (let c = 0; c < expected.length; c++)
        worst = Math.max(worst, Math.abs(probabilities[c]! - expected[c]!));
    });
    assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
    // Batches of one give the same as the padded batch.
    const [single] = await runOnnx(session, [ids[0]!]);
    for (let c = 0; c < single!.length; c++) assert.ok(Math.abs(single![c]! - outputs[0]![c]!) <= 1e-6);
  });

  it('onnx - the model is ONNX IR 7, opset 13, with Parley metadata', () => {
    const decoded = onnx.ModelProto.decode(fp32);
    assert.equal(decoded.irVersion, IR_VERSION);
    assert.deepEqual(
      decoded.opsetImport.map((o) => [o.domain ?? '', o.version]),
      [['', OPSET_VERSION]],
    );
    assert.equal(decoded.modelVersion, 7);
    const metadata = readOnnxMetadata(fp32);
    assert.deepEqual(metadata.labels, model.labels);
    assert.deepEqual(metadata.features, model.features);
    assert.equal(metadata.threshold, model.threshold);
    assert.equal(metadata.precision, 'fp32');
    assert.equal(metadata.modelVersion, '7');
    assert.equal(readOnnxMetadata(int8).precision, 'int8');
    assert.throws(() => readOnnxMetadata(new Uint8Array([1, 2, 3])), OnnxModelError);
  });

  it('int8 - loads in onnxruntime and agrees with FP32 (argmax >= 98%, probabilities within 0.01)', async () => {
    const ids = texts.map((text) => featurize(text, model.features));
    const { agree, worst } = await int8AgainstFp32(ids);
    assert.ok(agree / ids.length >= 0.98, `argmax agreement ${agree}/${ids.length}`);
    // ~0.002 here; 0.014 when the bag's weights took 8 bits, which saturate on AVX2 CPUs without VNNI.
    assert.ok(worst <= 0.01, `max abs probability difference ${worst}`);
  });

  it('int8 - a text of a million ids agrees with FP32 (the integer bag cannot wrap around)', async () => {
    // NFKC makes U+FDFA 18 characters in 4 words: ~50 ids a character, ~1M here. With its weights
    // quantized against the largest alone, the bag's int32 sum passed 2^31 and wrapped.
    const ids = [
      featurize('\uFDFA'.repeat(20_000), model.features),
      featurize('time '.repeat(30_000), model.features),
    ];
    assert.ok(ids[0]!.length > 900_000, `${ids[0]!.length} ids`);
    const { agree, worst } = await int8AgainstFp32(ids);
    assert.equal(agree, ids.length, 'argmax agreement');
    assert.ok(worst <= 0.05, `max abs probability difference ${worst}`);
  });

  it('int8 - a text gets the same probabilities alone as in any batch (activations quantized per row)', async () => {
    const quantized = await createOnnxSession(int8);
    const ids = texts.map((text) => featurize(text, model.features));
    const batched = await runOnnx(quantized, ids);
    const reversed = (await runOnnx(quantized, [...ids].reverse())).reverse();
    for (let i = 0; i < ids.length; i++) {
      const [alone] = await runOnnx(quantized, [ids[i]!]);
      // Float sums in another order differ in the last bits; per-tensor quantization moved them by ~1e-4.
      for (let c = 0; c < alone!.length; c++) {
        assert.ok(Math.abs(batched[i]![c]! - alone![c]!) < 1e-6, `text ${i} alone vs in the batch`);
        assert.ok(Math.abs(reversed[i]![c]! - alone![c]!) < 1e-6, `text ${i} in another order`);
      }
    }
  });

  it('int8 - the graph runs integer operators and never dequantizes constant weights', () => {
    const graph = onnx.ModelProto.decode(int8).graph!;
    const ops = new Set(graph.node.map((n) => n.opType));
    for (const op of ['MatMulInteger', 'Gather', 'Cast']) assert.ok(ops.has(op), op);
    // Activations are quantized per row; DynamicQuantizeLinear would quantize the whole batch at once.
    assert.ok(!ops.has('DynamicQuantizeLinear'), 'per-tensor activation quantization in the INT8 graph');
    assert.ok(!ops.has('DequantizeLinear'), 'DequantizeLinear in the INT8 graph');
    const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
    // Every product is on integers, the bag (text weights x gathered int8 rows) included.
    assert.ok(!ops.has('MatMul'), 'a float MatMul in the INT8 graph');
    assert.equal(graph.node.filter((n) => n.opType === 'MatMulInteger').length, 3, 'MatMulIntegers');
    for (const name of ['embedding_q', 'hidden_weight_q', 'output_weight_q']) {
      assert.equal(initializers.get(name)?.dataType, onnx.TensorProto_DataType.INT8, name);
    }
    assert.ok(!graph.initializer.some((t) => t.name === 'embedding'), 'a float embedding table');
    // The table is gathered as int8, and nothing else is gathered per id: its scales are per column and
    // apply to the summed bag (a Gather of per-row scales cost nearly what the rows' did).
    const gathers = graph.node.filter((n) => n.opType === 'Gather').map((n) => n.input[0]);
    assert.deepEqual(gathers, ['embedding_q']);
  });

  it('int8 - the file is at most 30% of the FP32 one', () => {
    assert.ok(int8.length <= 0.3 * fp32.length, `${int8.length} vs ${fp32.length}`);
  });

  it('onnx - the export is deterministic', () => {
    assert.ok(Buffer.from(exportOnnx(model, { modelVersion: '7' })).equals(Buffer.from(fp32)));
    assert.ok(
      Buffer.from(exportOnnx(model, { precision: 'int8', modelVersion: '7' })).equals(Buffer.from(int8)),
    );
  });

  it('session - packs ids with mean weights and padding', () => {
    const packed = packBatch([[5, 6], [7], []]);
    assert.equal(packed.length, 2);
    assert.deepEqual([...packed.ids], [5n, 6n, 7n, 0n, 0n, 0n]);
    assert.deepEqual([...packed.weights], [0.5, 0.5, 1, 0, 0, 0]);
  });

  it('session - a model onnxruntime cannot load fails with a clear error', async () => {
    await assert.rejects(createOnnxSession(new Uint8Array([8, 1, 2])), /onnxruntime could not load <bytes>/);
  });
});
