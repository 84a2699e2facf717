/**
 * Running an exported intent model in ONNX Runtime (onnxruntime-node): session creation and the packing of
 * variable-length id lists into the graph's `ids` / `weights` inputs.
 */
import * as ort from 'onnxruntime-node';
import { OnnxErrorCode, OnnxRuntimeError } from './errors.js';
import { OnnxIo } from './export-onnx.js';

/** An ONNX Runtime session over an exported intent model. */
export type OnnxSession = ort.InferenceSession;

export interface OnnxSessionOptions {
  /** Threads of one operator; 1 suits a pool of one session per worker. @default 1 */
  intraOpNumThreads?: number;
  /** ONNX Runtime graph optimisations. @default 'all' */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

/**
 * Loads a model (bytes as `exportOnnx` returns them, or a file path) into a CPU session.
 *
 * @throws {OnnxRuntimeError} when ONNX Runtime refuses the model.
 * @example
 * ```ts
 * const session = await createOnnxSession(exportOnnx(model, { precision: 'int8' }));
 * const [probabilities] = await runOnnx(session, [featurize('hello', model.features)]);
 * ```
 */
export async function createOnnxSession(
  model: Uint8Array | string,
  options: OnnxSessionOptions = {},
): Promise<OnnxSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    // Session config entries `session.intra_op.allow_spinning` / `inter_op`: idle ONNX Runtime threads
    // sleep instead of spinning, so a pool of sessions does not burn the cores its neighbours need.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  try {
    return typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions)
      : await ort.InferenceSession.create(model, sessionOptions);
  } catch (error) {
    throw new OnnxRuntimeError(OnnxErrorCode.SessionFailed, typeof model === 'string' ? model : '<bytes>', {
      cause: error,
    });
  }
}

/** A batch as the graph takes it. */
export interface PackedBatch {
  /** `[batch, length]`, 0-padded. */
  readonly ids: BigInt64Array<ArrayBuffer>;
  /** `[batch, length]`: `1 / n` for each of a text's `n` ids, 0 for padding. */
  readonly weights: Float32Array<ArrayBuffer>;
  readonly batch: number;
  /** The longest id list (at least 1, so an empty text is one padding slot). */
  readonly length: number;
}

// int64 ids are written as two int32 halves (low word first on a little-endian machine; ids are below
// 2**31, so the high word is 0): far cheaper than a BigInt per id.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Packs id lists (one per text) into padded `ids` and mean-bag `weights`. */
export function packBatch(batch: readonly ArrayLike<number>[]): PackedBatch {
  let length = 1;
  for (const ids of batch) length = Math.max(length, ids.length);
  // Both inputs in one buffer (ids first, 8-byte aligned): each ArrayBuffer costs a young-generation
  // collection time to sweep.
  const slots = batch.length * length;
  const buffer = new ArrayBuffer(slots * 12);
  const ids = new BigInt64Array(buffer, 0, slots);
  const halves = new Int32Array(buffer, 0, slots * 2);
  const low = LITTLE_ENDIAN ? 0 : 1;
  const weights = new Float32Array(buffer, slots * 8, slots);
  batch.forEach((row, r) => {
    const weight = row.length === 0 ? 0 : 1 / row.length;
    const offset = r * length;
    for (let i = 0; i < row.length; i++) {
      halves[2 * (offset + i) + low] = row[i]!;
      weights[offset + i] = weight;
    }
  });
  return { ids, weights, batch: batch.length, length };
}

/**
 * Class probabilities for each id list of the batch (one `Float32Array` of `classes` values per text).
 *
 * @throws {OnnxRuntimeError} when ONNX Runtime fails (e.g. an id outside the embedding table).
 */
export async function runOnnx(
  session: OnnxSession,
  batch: readonly ArrayLike<number>[],
): Promise<Float32Array[]> {
  if (batch.length === 0) return [];
  const data = await runPacked(session, packBatch(batch));
  const classes = data.length / batch.length;
  return batch.map((_, r) => data.subarray(r * classes, (r + 1) * classes));
}

/**
 * Runs a packed batch: the probabilities as one `[batch, classes]` row-major array.
 *
 * @throws {OnnxRuntimeError} when ONNX Runtime fails.
 */
export async function runPacked(session: OnnxSession, packed: PackedBatch): Promise<Float32Array> {
  const dims = [packed.batch, packed.length];
  let output: ort.Tensor | undefined;
  try {
    const results = await session.run({
      [OnnxIo.ids]: new ort.Tensor('int64', packed.ids, dims),
      [OnnxIo.weights]: new ort.Tensor('float32', packed.weights, dims),
    });
    output = results[OnnxIo.probabilities];
  } catch (error) {
    throw new OnnxRuntimeError(OnnxErrorCode.RunFailed, 'an intent model', { cause: error });
  }
  if (output === undefined || !(output.data instanceof Float32Array)) {
    throw new OnnxRuntimeError(OnnxErrorCode.RunFailed, 'an intent model', {
      cause: new Error(`output '${OnnxIo.probabilities}' is missing or not float32`),
    });
  }
  return output.data;
}
