/**
 * The canonical model file: what `serialiseModel` writes is a pure function of the training data, options
 * and seed (the byte-identity test compares two of them), and what the ONNX exporters re-read.
 *
 * Layout (little-endian):
 *
 *   "PARLEYIM"            8 bytes, magic
 *   u32 formatVersion     currently 1
 *   u32 headerLength      bytes of the JSON header
 *   header                UTF-8 JSON: labels, features, shape, threshold, outOfScopeLabel, calibration, metrics
 *   padding               zeros up to a multiple of 4 bytes
 *   f32[] tensors         embedding, hiddenWeight, hiddenBias, outputWeight, outputBias (row-major)
 *
 * `metrics.durationMs` (wall clock) is left out.
 */
import { endianness } from 'node:os';
import { z } from 'zod';
import { compileFeatureOptions, FEATURE_VERSION } from '../features/index.js';
import { ModelFileError } from './errors.js';
import type { TrainedModel } from './intent-model.js';
import { type NetworkWeights, WEIGHT_ORDER, weightSizes } from './network.js';

const MAGIC = 'PARLEYIM';
/** The version of the model file layout this code writes and reads. */
export const MODEL_FORMAT_VERSION = 1;
const PREFIX_BYTES = 16;

const headerSchema = z.object({
  labels: z.array(z.string()).min(2),
  features: z.object({
    buckets: z.number().int().positive(),
    wordNgrams: z.number().int().positive(),
    charNgrams: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
    version: z.number().int(),
  }),
  shape: z.object({
    buckets: z.number().int().positive(),
    dim: z.number().int().positive(),
    hidden: z.number().int().positive(),
    classes: z.number().int().positive(),
  }),
  threshold: z.number().min(0).max(1),
  outOfScopeLabel: z.string().nullable(),
  calibration: z.object({
    threshold: z.number(),
    method: z.enum(['outOfScopeExamples', 'inScopeQuantile', 'fallback']),
    inScopeAccuracy: z.number().nullable(),
    outOfScopeRecall: z.number().nullable(),
  }),
  metrics: z.object({
    trainExamples: z.number().int().nonnegative(),
    validationExamples: z.number().int().nonnegative(),
    epochs: z.number().int().nonnegative(),
    bestEpoch: z.number().int().nonnegative(),
    stoppedBy: z.enum(['patience', 'maxEpochs']),
    trainAccuracy: z.number(),
    validationAccuracy: z.number().nullable(),
  }),
});
type Header = z.infer<typeof headerSchema>;

/** The model as one self-describing byte array (see the module comment for the layout). */
export function serialiseModel(model: TrainedModel): Uint8Array {
  assertLittleEndian();
  const { labels, features, shape, threshold, outOfScopeLabel, calibration, metrics } = model;
  const header: Header = {
    labels: [...labels],
    features: {
      buckets: features.buckets,
      wordNgrams: features.wordNgrams,
      charNgrams: [features.charNgrams[0], features.charNgrams[1]],
      version: features.version,
    },
    shape: { buckets: shape.buckets, dim: shape.dim, hidden: shape.hidden, classes: shape.classes },
    threshold,
    outOfScopeLabel: outOfScopeLabel ?? null,
    calibration: {
      threshold: calibration.threshold,
      method: calibration.method,
      inScopeAccuracy: calibration.inScopeAccuracy ?? null,
      outOfScopeRecall: calibration.outOfScopeRecall ?? null,
    },
    metrics: {
      trainExamples: metrics.trainExamples,
      validationExamples: metrics.validationExamples,
      epochs: metrics.epochs,
      bestEpoch: metrics.bestEpoch,
      stoppedBy: metrics.stoppedBy,
      trainAccuracy: metrics.trainAccuracy,
      validationAccuracy: metrics.validationAccuracy ?? null,
    },
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const tensorsAt = align4(PREFIX_BYTES + json.length);
  const sizes = weightSizes(shape);
  const total = tensorsAt + WEIGHT_ORDER.reduce((sum, name) => sum + sizes[name] * 4, 0);
  const bytes = new Uint8Array(total);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, MODEL_FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  bytes.set(json, PREFIX_BYTES);
  let offset = tensorsAt;
  for (const name of WEIGHT_ORDER) {
    const tensor = model.weights[name];
    if (tensor.length !== sizes[name]) {
      throw new RangeError(`weights.${name} has ${tensor.length} values; shape needs ${sizes[name]}`);
    }
    bytes.set(new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength), offset);
    offset += tensor.byteLength;
  }
  return bytes;
}

/**
 * Reads what {@link serialiseModel} wrote.
 *
 * @throws {ModelFileError} when the bytes are not a model file of this version, or were trained with another
 * feature scheme.
 */
export function deserialiseModel(bytes: Uint8Array): TrainedModel {
  assertLittleEndian();
  if (bytes.length < PREFIX_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new ModelFileError('the file does not start with the PARLEYIM magic');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== MODEL_FORMAT_VERSION) {
    throw new ModelFileError(`format version ${version} is not the supported ${MODEL_FORMAT_VERSION}`);
  }
  const headerLength = view.getUint32(12, true);
  if (PREFIX_BYTES + headerLength > bytes.length) throw new ModelFileError('the header is truncated');
  let header: Header;
  try {
    const json: unknown = JSON.parse(
      new TextDecoder().decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)),
    );
    header = headerSchema.parse(json);
  } catch (error) {
    throw new ModelFileError('the header is not valid', { cause: error });
  }
  const { shape, features } = header;
  if (features.version !== FEATURE_VERSION) {
    throw new ModelFileError(
      `it was trained with feature scheme ${features.version}, this Parley has ${FEATURE_VERSION}`,
    );
  }
  if (shape.classes !== header.labels.length || shape.buckets !== features.buckets) {
    throw new ModelFileError('the shape does not match the labels or the feature buckets');
  }
  const sizes = weightSizes(shape);
  let offset = align4(PREFIX_BYTES + headerLength);
  const expected = offset + WEIGHT_ORDER.reduce((sum, name) => sum + sizes[name] * 4, 0);
  if (bytes.length !== expected) {
    throw new ModelFileError(`it has ${bytes.length} bytes where its shape needs ${expected}`);
  }
  const read = (name: keyof NetworkWeights): Float32Array => {
    const length = sizes[name] * 4;
    // A copy: the source may be unaligned for a Float32Array view, and the model must not alias it.
    const tensor = new Float32Array(bytes.slice(offset, offset + length).buffer);
    offset += length;
    return tensor;
  };
  // In WEIGHT_ORDER.
  const weights: NetworkWeights = {
    embedding: read('embedding'),
    hiddenWeight: read('hiddenWeight'),
    hiddenBias: read('hiddenBias'),
    outputWeight: read('outputWeight'),
    outputBias: read('outputBias'),
  };
  return {
    labels: header.labels,
    features: compileFeatureOptions({
      buckets: features.buckets,
      wordNgrams: features.wordNgrams,
      charNgrams: features.charNgrams,
    }),
    shape,
    weights,
    threshold: header.threshold,
    outOfScopeLabel: header.outOfScopeLabel ?? undefined,
    calibration: {
      threshold: header.calibration.threshold,
      method: header.calibration.method,
      inScopeAccuracy: header.calibration.inScopeAccuracy ?? undefined,
      outOfScopeRecall: header.calibration.outOfScopeRecall ?? undefined,
    },
    metrics: { ...header.metrics, validationAccuracy: header.metrics.validationAccuracy ?? undefined },
  };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('intent model files are little-endian; this machine is not');
}
