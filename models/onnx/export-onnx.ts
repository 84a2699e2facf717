/**
 * Writes a trained intent model as an ONNX model (opset 13, IR version 7) with the generated protobuf types.
 *
 * Graph inputs: `ids` int64 `[batch, length]` (feature ids, 0-padded) and `weights` float `[batch, length]`
 * (`1 / n` for each of a text's `n` ids, 0 for padding), so `sum(embedding[ids] * weights)` is exactly the
 * mean bag. Output: `probabilities` float `[batch, classes]`. `runOnnx` packs both inputs.
 *
 * FP32:  Gather -> Mul(weights) -> ReduceSum -> MatMul + Add -> Relu -> MatMul + Add -> Softmax
 *
 * INT8:  the table is int8 with one scale per row: Gather(int8 rows) -> Cast -> Mul(weights * Gather(row
 *        scales)) -> ReduceSum, so the table stays int8 in memory at run time. Each dense layer is
 *        DynamicQuantizeLinear (uint8 activations) -> MatMulInteger (int8 weights, zero point 0) -> Cast ->
 *        Mul(activation scale * per-column weight scales) -> Add(bias). No DequantizeLinear of constant
 *        weights: ONNX Runtime folds that back to float and nothing would be gained.
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
import { quantizePerColumn, quantizePerRow } from './quantize.js';

/** The ONNX operator set the graphs are written against (ReduceSum/Unsqueeze take `axes` as an input). */
export const OPSET_VERSION = 13;
/** ONNX IR version 7, the one that goes with opset 13. */
export const IR_VERSION = 7;

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

const AXES_LENGTH = 'axes_length';
const AXES_LAST = 'axes_last';

function ioValues(model: TrainedModel): Pick<onnx.GraphProto, 'input' | 'output'> {
  return {
    input: [
      tensorValue(OnnxIo.ids, DataType.INT64, ['batch', 'length']),
      tensorValue(OnnxIo.weights, DataType.FLOAT, ['batch', 'length']),
    ],
    output: [tensorValue(OnnxIo.probabilities, DataType.FLOAT, ['batch', model.shape.classes])],
  };
}

/** `bag = ReduceSum(rows * Unsqueeze(rowWeights, -1), axis 1)`: the weighted (mean) bag of gathered rows. */
function bagNodes(rows: string, rowWeights: string): onnx.NodeProto[] {
  return [
    node('Unsqueeze', [rowWeights, AXES_LAST], ['row_weights_3d']),
    node('Mul', [rows, 'row_weights_3d'], ['weighted_rows']),
    node('ReduceSum', ['weighted_rows', AXES_LENGTH], ['bag'], { keepdims: { int: 0 } }),
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
      int64Tensor(AXES_LENGTH, [1]),
      int64Tensor(AXES_LAST, [2]),
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
  const table = quantizePerRow(weights.embedding, shape.buckets + 1, shape.dim, 127);
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
      floatTensor('embedding_scale', [shape.buckets + 1], table.scales),
      initializer('hidden_weight_q', DataType.INT8, [shape.dim, shape.hidden], hiddenWeight.values),
      floatTensor('hidden_weight_scale', [shape.hidden], hiddenWeight.scales),
      floatTensor('hidden_bias', [shape.hidden], weights.hiddenBias),
      initializer('output_weight_q', DataType.INT8, [shape.hidden, shape.classes], outputWeight.values),
      floatTensor('output_weight_scale', [shape.classes], outputWeight.scales),
      floatTensor('output_bias', [shape.classes], weights.outputBias),
      initializer('weight_zero_point', DataType.INT8, [], new Int8Array(1)),
      int64Tensor(AXES_LENGTH, [1]),
      int64Tensor(AXES_LAST, [2]),
    ],
    node: [
      node('Gather', ['embedding_q', OnnxIo.ids], ['rows_q']),
      node('Cast', ['rows_q'], ['rows'], { to: { int: DataType.FLOAT } }),
      node('Gather', ['embedding_scale', OnnxIo.ids], ['row_scales']),
      node('Mul', [OnnxIo.weights, 'row_scales'], ['row_weights']),
      ...bagNodes('rows', 'row_weights'),
      ...integerDense('bag', 'hidden_weight', 'hidden_linear'),
      node('Relu', ['hidden_linear'], ['hidden']),
      ...integerDense('hidden', 'output_weight', 'logits'),
      node('Softmax', ['logits'], [OnnxIo.probabilities], { axis: { int: -1 } }),
    ],
  });
}

/**
 * `output = x · W + b` on integers: x is quantized per tensor at run time (uint8 with its own scale and zero
 * point), W is int8 with per-column scales; the int32 product is rescaled by `x_scale * w_scale[col]`.
 */
function integerDense(input: string, weight: string, output: string): onnx.NodeProto[] {
  return [
    node('DynamicQuantizeLinear', [input], [`${input}_q`, `${input}_scale`, `${input}_zero_point`]),
    node(
      'MatMulInteger',
      [`${input}_q`, `${weight}_q`, `${input}_zero_point`, 'weight_zero_point'],
      [`${output}_int32`],
    ),
    node('Cast', [`${output}_int32`], [`${output}_accumulated`], { to: { int: DataType.FLOAT } }),
    node('Mul', [`${input}_scale`, `${weight}_scale`], [`${output}_rescale`]),
    node('Mul', [`${output}_accumulated`, `${output}_rescale`], [`${output}_product`]),
    node('Add', [`${output}_product`, `${weight.replace('_weight', '_bias')}`], [output]),
  ];
}
