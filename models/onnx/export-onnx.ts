/**
 * Writes a trained intent model as an ONNX model (opset 13, IR version 7) with the generated protobuf types.
 *
 * Graph inputs: `ids` int64 `[batch, length]` (feature ids, 0-padded) and `weights` float `[batch, length]`
 * (`1 / n` for each of a text's `n` ids, 0 for padding), so `sum(embedding[ids] * weights)` is exactly the
 * mean bag (in FP32; INT8 quantizes the weights too). Output: `probabilities` float `[batch, classes]`.
 * `runOnnx` packs both inputs.
 *
 * FP32:  Gather -> MatMul(weights) -> MatMul + Add -> Relu -> MatMul + Add -> Softmax
 *
 * INT8:  no float matrix product at run time. The table is int8 with one scale per column; a text's bag
 *        weights are quantized to 7-bit unsigned integers per text, and the bag is one batched
 *        MatMulInteger of them with the gathered int8 rows, rescaled by the text's weight scale and the
 *        column scales, so the gathered `[batch, length, dim]` rows are never cast to float. Each dense layer
 *        quantizes its input to uint8 per row (each text its own scale and offset, computed at run
 *        time) -> MatMulInteger (int8 weights, zero point 0) -> Cast -> rescale by row scale * per-column
 *        weight scales, plus row offset * column sums -> Add(bias). Per row, not per tensor
 *        (DynamicQuantizeLinear): a text's answer must not depend on the other texts batched with it.
 *        No DequantizeLinear of constant weights: ONNX Runtime folds that back to float.
 */
import type { TrainedModel } from '../model/index.js';
import { onnx } from '../../proto/index.js';
import {
  compileExportOptions,
  type CompiledExportOptions,
  type OnnxExportOptions,
} from './export-options.js';
import { DataType, floatTensor, initializer, int64Tensor, node, tensorValue } from './graph-builder.js';
import { metadataEntries, ONNX_EXPORT_FORMAT } from './metadata.js';
import { quantizePerColumn, type QuantizedTensor } from './quantize.js';

/** The ONNX operator set the graphs are written against (Unsqueeze/Squeeze take `axes` as an input). */
export const OPSET_VERSION = 13;
/** ONNX IR version 7, the one that goes with opset 13. */
export const IR_VERSION = 7;

/**
 * The revision of the graphs `exportOnnx` writes: it changes whenever the same trained model would be
 * exported differently (2: INT8 activations quantized per row; 3: the bag as one batched MatMul; 4: the
 * INT8 bag on integers; 5: the INT8 table quantized per column), so registries rebuild their exports.
 */
export const ONNX_GRAPH_REVISION = 5;

/** Names of the graph's inputs and output. */
export const OnnxIo = { ids: 'ids', weights: 'weights', probabilities: 'probabilities' } as const;

/**
 * The model as ONNX bytes.
 *
 * @example
 * ```ts
 * const fp32 = exportOnnx(model);
 * const int8 = exportOnnx(model, { precision: 'int8', modelVersion: '3' });
 * const session = await createOnnxSession(int8);
 * ```
 */
export function exportOnnx(model: TrainedModel, options: OnnxExportOptions = {}): Uint8Array {
  const compiled = compileExportOptions(options);
  const graph = compiled.precision === 'int8' ? int8Graph(model, compiled) : fp32Graph(model);
  const modelVersion = Number(compiled.modelVersion);
  const proto = onnx.ModelProto.fromPartial({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'parley',
    producerVersion: ONNX_EXPORT_FORMAT,
    domain: 'dev.parley',
    ...(Number.isSafeInteger(modelVersion) && modelVersion >= 0 ? { modelVersion } : {}),
    docString: 'Parley intent classifier: hashed n-gram embedding bag -> hidden ReLU layer -> softmax.',
    graph,
    metadataProps: metadataEntries({
      format: ONNX_EXPORT_FORMAT,
      labels: model.labels,
      features: model.features,
      threshold: model.threshold,
      outOfScopeLabel: model.outOfScopeLabel,
      precision: compiled.precision,
      modelVersion: compiled.modelVersion,
    }),
  });
  return onnx.ModelProto.encode(proto).finish();
}

const AXIS_1 = 'axis_1';

function ioValues(model: TrainedModel): Pick<onnx.GraphProto, 'input' | 'output'> {
  return {
    input: [
      tensorValue(OnnxIo.ids, DataType.INT64, ['batch', 'length']),
      tensorValue(OnnxIo.weights, DataType.FLOAT, ['batch', 'length']),
    ],
    output: [tensorValue(OnnxIo.probabilities, DataType.FLOAT, ['batch', model.shape.classes])],
  };
}

/**
 * `bag = Squeeze(Unsqueeze(rowWeights, 1) @ rows)`: the weighted (mean) bag of gathered rows, one
 * `[1, length] x [length, dim]` product per text. As one batched MatMul it runs in about half the time of
 * Mul + ReduceSum, which write and re-read the weighted `[batch, length, dim]` rows.
 */
function bagNodes(rows: string, rowWeights: string): onnx.NodeProto[] {
  return [
    node('Unsqueeze', [rowWeights, AXIS_1], ['row_weights_3d']),
    node('MatMul', ['row_weights_3d', rows], ['bag_3d']),
    node('Squeeze', ['bag_3d', AXIS_1], ['bag']),
  ];
}

function fp32Graph(model: TrainedModel): onnx.GraphProto {
  const { shape, weights } = model;
  return onnx.GraphProto.fromPartial({
    name: 'parley_intent_fp32',
    ...ioValues(model),
    initializer: [
      floatTensor('embedding', [shape.buckets + 1, shape.dim], weights.embedding),
      floatTensor('hidden_weight', [shape.dim, shape.hidden], weights.hiddenWeight),
      floatTensor('hidden_bias', [shape.hidden], weights.hiddenBias),
      floatTensor('output_weight', [shape.hidden, shape.classes], weights.outputWeight),
      floatTensor('output_bias', [shape.classes], weights.outputBias),
      int64Tensor(AXIS_1, [1]),
    ],
    node: [
      node('Gather', ['embedding', OnnxIo.ids], ['rows']),
      ...bagNodes('rows', OnnxIo.weights),
      node('MatMul', ['bag', 'hidden_weight'], ['hidden_product']),
      node('Add', ['hidden_product', 'hidden_bias'], ['hidden_linear']),
      node('Relu', ['hidden_linear'], ['hidden']),
      node('MatMul', ['hidden', 'output_weight'], ['output_product']),
      node('Add', ['output_product', 'output_bias'], ['logits']),
      node('Softmax', ['logits'], [OnnxIo.probabilities], { axis: { int: -1 } }),
    ],
  });
}

function int8Graph(model: TrainedModel, options: CompiledExportOptions): onnx.GraphProto {
  const { shape, weights } = model;
  const table = quantizePerColumn(weights.embedding, shape.buckets + 1, shape.dim, 127);
  const hiddenWeight = quantizePerColumn(
    weights.hiddenWeight,
    shape.dim,
    shape.hidden,
    options.denseQuantizedMax,
  );
  const outputWeight = quantizePerColumn(
    weights.outputWeight,
    shape.hidden,
    shape.classes,
    options.denseQuantizedMax,
  );
  return onnx.GraphProto.fromPartial({
    name: 'parley_intent_int8',
    ...ioValues(model),
    initializer: [
      initializer('embedding_q', DataType.INT8, [shape.buckets + 1, shape.dim], table.values),
      floatTensor('embedding_scale', [shape.dim], table.scales),
      initializer('hidden_weight_q', DataType.INT8, [shape.dim, shape.hidden], hiddenWeight.values),
      floatTensor('hidden_weight_scale', [shape.hidden], hiddenWeight.scales),
      floatTensor('hidden_bias', [shape.hidden], weights.hiddenBias),
      initializer('output_weight_q', DataType.INT8, [shape.hidden, shape.classes], outputWeight.values),
      floatTensor('output_weight_scale', [shape.classes], outputWeight.scales),
      floatTensor('output_bias', [shape.classes], weights.outputBias),
      floatTensor(
        'hidden_weight_column_sum',
        [shape.hidden],
        columnSums(hiddenWeight, shape.dim, shape.hidden),
      ),
      floatTensor(
        'output_weight_column_sum',
        [shape.classes],
        columnSums(outputWeight, shape.hidden, shape.classes),
      ),
      initializer('weight_zero_point', DataType.INT8, [], new Int8Array(1)),
      floatTensor('zero', [], new Float32Array([0])),
      floatTensor('uint8_levels', [], new Float32Array([255])),
      floatTensor('uint7_levels', [], new Float32Array([127])),
      floatTensor('bag_weight_budget', [], new Float32Array([BAG_WEIGHT_BUDGET])),
      floatTensor('smallest_scale', [], new Float32Array([1e-30])),
      int64Tensor(AXIS_1, [1]),
    ],
    node: [
      ...integerBag(),
      ...integerDense('bag', 'hidden_weight', 'hidden_linear'),
      node('Relu', ['hidden_linear'], ['hidden']),
      ...integerDense('hidden', 'output_weight', 'logits'),
      node('Softmax', ['logits'], [OnnxIo.probabilities], { axis: { int: -1 } }),
    ],
  });
}

/**
 * Most levels a text's quantized bag weights add up to, rounding aside: with up to half a level more per
 * id and 127 per int8 row value, `127 * (2^23 + ids / 2)` stays below 2^31 for texts of up to ~17M ids.
 */
const BAG_WEIGHT_BUDGET = 2 ** 23;

/**
 * `bag = column_scale * sum_i weights[i] * rows_q[ids[i]]` on integers: the text's weights (all >= 0)
 * are quantized to 0..127 with one scale per text (`QuantizeLinear` per axis 0), one batched
 * `[1, length] x [length, dim]` MatMulInteger per text sums the int8 rows, and the table's per-column
 * scales apply once to the sum. 7 bits, not 8: ONNX Runtime's u8s8 kernels on AVX2 without VNNI add
 * pairs of products in int16 with saturation, and 127 * 127 * 2 fits where 255 * 127 * 2 does not (with
 * 8 bits the probabilities moved by up to 0.07). The int32 sum must stay below 2^31 too: a text's
 * quantized weights add up to at most its weight sum over the scale plus half a level per id, so the
 * scale is also at least the weight sum divided by {@link BAG_WEIGHT_BUDGET}. Only texts of more than
 * ~66,000 ids reach that bound (NFKC can make ~50 ids of one character: U+FDFA x 20,000 is ~1M ids, whose
 * sum wrapped around before); below it the scale is the largest weight / 127.
 * - Against Cast(rows) -> float MatMul this cut a third of the model time of a 128-text batch (746 -> 482
 *   µs on the skills' model): the cast wrote and re-read the whole `[batch, length, dim]` tensor as float.
 * - Per-column scales, not per-row: a per-row scale has to be gathered for every id, and ONNX Runtime's
 *   Gather costs ~7 ns an index whatever the row's size, so the 4-byte scales cost nearly what the 64-byte
 *   rows did (ONNX Runtime's profiler, batch 128: 176 of 786 µs). Without that Gather a 128-text batch
 *   runs in 356-397 µs instead of 593-628 (FP32 475-494), and CLINC150 reads the same: in-scope 93.07%,
 *   out-of-scope recall 60.40% (per-row: 93.04% / 60.40%; FP32 93.07% / 60.30%).
 */
function integerBag(): onnx.NodeProto[] {
  return [
    node('Gather', ['embedding_q', OnnxIo.ids], ['rows_q']),
    node('ReduceMax', [OnnxIo.weights], ['weights_max'], { axes: { ints: [1] }, keepdims: { int: 1 } }),
    node('Div', ['weights_max', 'uint7_levels'], ['weights_raw_scale']),
    node('ReduceSum', [OnnxIo.weights, AXIS_1], ['weights_sum'], { keepdims: { int: 1 } }),
    node('Div', ['weights_sum', 'bag_weight_budget'], ['weights_sum_scale']),
    node('Max', ['weights_raw_scale', 'weights_sum_scale'], ['weights_least_scale']),
    node('Max', ['weights_least_scale', 'smallest_scale'], ['weights_scale']),
    node('Squeeze', ['weights_scale', AXIS_1], ['weights_scale_1d']),
    node('QuantizeLinear', [OnnxIo.weights, 'weights_scale_1d'], ['weights_q'], { axis: { int: 0 } }),
    node('Unsqueeze', ['weights_q', AXIS_1], ['weights_q_3d']),
    node('MatMulInteger', ['weights_q_3d', 'rows_q'], ['bag_int32_3d']),
    node('Squeeze', ['bag_int32_3d', AXIS_1], ['bag_int32']),
    node('Cast', ['bag_int32'], ['bag_accumulated'], { to: { int: DataType.FLOAT } }),
    node('Mul', ['bag_accumulated', 'weights_scale'], ['bag_unscaled']),
    node('Mul', ['bag_unscaled', 'embedding_scale'], ['bag']),
  ];
}

/**
 * `output = x · W + b` on integers. Each row of x is quantized at run time to uint8 with its own range
 * (`x ≈ q * scale + low`, the range widened to include 0 as DynamicQuantizeLinear does), W is int8 with
 * per-column scales, so `x · W ≈ scale * (q · Wq) * w_scale + low * colsum(W)`: the int32 product is
 * rescaled per row and column, and the offset term uses the (constant) column sums of the quantized W.
 *
 * The layer after the ReLU keeps the range and offset nodes although its `low` is always 0: the shorter
 * graph without them came out wrong from ONNX Runtime's 'extended' optimisations (right with 'basic';
 * probabilities off by ~0.03 in onnxruntime-node 1.30), which fuse MatMulInteger -> Cast -> Mul chains.
 */
function integerDense(input: string, weight: string, output: string): onnx.NodeProto[] {
  const name = (suffix: string): string => `${input}_${suffix}`;
  return [
    node('ReduceMin', [input], [name('row_min')], { axes: { ints: [1] }, keepdims: { int: 1 } }),
    node('ReduceMax', [input], [name('row_max')], { axes: { ints: [1] }, keepdims: { int: 1 } }),
    node('Min', [name('row_min'), 'zero'], [name('low')]),
    node('Max', [name('row_max'), 'zero'], [name('high')]),
    node('Sub', [name('high'), name('low')], [name('range')]),
    // An all-zero row has range 0: the smallest positive scale keeps it at q = 0 instead of NaN.
    node('Div', [name('range'), 'uint8_levels'], [name('raw_scale')]),
    node('Max', [name('raw_scale'), 'smallest_scale'], [name('scale')]),
    node('Sub', [input, name('low')], [name('shifted')]),
    node('Squeeze', [name('scale'), AXIS_1], [name('scale_1d')]),
    // Per axis 0, each row its own scale: rounds half to even and saturates to 0..255, as Round + Clip.
    node('QuantizeLinear', [name('shifted'), name('scale_1d')], [name('q')], { axis: { int: 0 } }),
    node('MatMulInteger', [name('q'), `${weight}_q`, '', 'weight_zero_point'], [`${output}_int32`]),
    node('Cast', [`${output}_int32`], [`${output}_accumulated`], { to: { int: DataType.FLOAT } }),
    node('Mul', [name('scale'), `${weight}_scale`], [`${output}_rescale`]),
    node('Mul', [`${output}_accumulated`, `${output}_rescale`], [`${output}_scaled`]),
    node('Mul', [name('low'), `${weight}_column_sum`], [`${output}_offset`]),
    node('Add', [`${output}_scaled`, `${output}_offset`], [`${output}_product`]),
    node('Add', [`${output}_product`, `${weight.replace('_weight', '_bias')}`], [output]),
  ];
}

/** `sum_k q[k, c] * scale[c]` for each column c: the dequantized column sums of a per-column int8 matrix. */
function columnSums(quantized: QuantizedTensor, rows: number, cols: number): Float32Array {
  const sums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) sums[c] = sums[c]! + quantized.values[r * cols + c]!;
  }
  return Float32Array.from(sums, (sum, c) => sum * quantized.scales[c]!);
}
