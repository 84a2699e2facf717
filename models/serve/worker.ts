/**
 * One inference worker (a piscina worker thread): featurises a batch of texts, packs their ids into typed
 * arrays and runs them on its own ONNX Runtime session (one intra-op thread, spinning off). Featurising
 * here rather than in the engine keeps the serving thread free for I/O: at ~5 µs a text it would
 * otherwise be the bottleneck of large batches.
 *
 * Sessions are loaded on first use of a model version and the two most recent are kept, so batches of
 * the previous version still in the queue during a swap finish on it; an evicted session is released
 * once no batch runs on it.
 */
import { readFile } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { featurizeBatch, type CompiledFeatureOptions } from '../features/index.js';
import {
  createOnnxSession,
  packBatch,
  readOnnxMetadata,
  runPacked,
  type OnnxPrecision,
  type OnnxSession,
  type PackedBatch,
} from '../onnx/index.js';

/** What the engine sends: the texts of one batch and the model version to run them on. */
export interface WorkerTask {
  readonly texts: readonly string[];
  /**
   * Per text, the wall-clock time (`Date.now()`) after which it must not run: a batch handed to a busy
   * worker waits for it, and a text whose caller gave up meanwhile is skipped. Infinity for none.
   */
  readonly deadlines: readonly number[];
  /** The registry version of the model. */
  readonly version: string;
  /** Its `.onnx` file. */
  readonly path: string;
}

/** What comes back: views of one buffer, transferred (not copied). */
export interface WorkerResult {
  /** `[texts, classes]`, row-major, in the order of the task's texts. */
  readonly probabilities: Float32Array;
  /** Feature ids per text; 0 for a text with no letters or digits (its row means nothing). */
  readonly featureCounts: Uint32Array;
  /** Per text, 1 if it was not run: its deadline had passed when the batch started (its row is zeros). */
  readonly expired: Uint8Array;
  /** The worker thread that ran the batch. */
  readonly threadId: number;
}

const KEEP_VERSIONS = 2;

interface Model {
  readonly session: OnnxSession;
  readonly features: CompiledFeatureOptions;
  readonly classes: number;
  /** `SLICE_PADDING_IDS` of the model's precision. */
  readonly paddingIds: number;
}

interface LoadedModel {
  readonly model: Promise<Model>;
  /** Batches running on it now: a worker takes a second batch while it runs one (see engine.ts). */
  users: number;
  /** Dropped from `models`: released when its last batch ends. */
  evicted: boolean;
}

const models = new Map<string, LoadedModel>();

async function loadModel(path: string): Promise<Model> {
  const bytes = new Uint8Array(await readFile(path));
  const { features, labels, precision } = readOnnxMetadata(bytes);
  const session = await createOnnxSession(bytes, { intraOpNumThreads: 1 });
  return { session, features, classes: labels.length, paddingIds: SLICE_PADDING_IDS[precision] };
}

function modelFor(version: string, path: string): LoadedModel {
  let loaded = models.get(version);
  if (loaded) {
    models.delete(version); // re-insert: the Map's order is the recency order
  } else {
    const fresh: LoadedModel = { model: loadModel(path), users: 0, evicted: false };
    // A failed load is retried by the next batch.
    fresh.model.catch(() => {
      if (models.get(version) === fresh) models.delete(version);
    });
    loaded = fresh;
  }
  models.set(version, loaded);
  for (const [old, stale] of models) {
    if (models.size <= KEEP_VERSIONS) break;
    models.delete(old);
    stale.evicted = true;
    if (stale.users === 0) release(stale);
  }
  return loaded;
}

function release(loaded: LoadedModel): void {
  void loaded.model.then((m) => m.session.release()).catch(() => undefined);
}

/** Hands a result's buffer back to the engine without copying it. */
class MovedResult {
  constructor(private readonly result: WorkerResult) {}
  get [transferableSymbol](): ArrayBuffer[] {
    return [this.result.probabilities.buffer as ArrayBuffer];
  }
  get [valueSymbol](): WorkerResult {
    return this.result;
  }
}

/** Runs one batch: the probabilities of its texts, in order; texts past their deadline are skipped. */
export default async function runBatch(task: WorkerTask): Promise<WorkerResult> {
  const loaded = modelFor(task.version, task.path);
  loaded.users += 1;
  try {
    const { session, features, classes, paddingIds } = await loaded.model;
    const n = task.texts.length;
    const now = Date.now();
    // The three arrays of the result share one buffer: each ArrayBuffer costs a young-generation
    // collection time to sweep, on this thread and on the engine's (docs/benchmarks.md, "GC at c=1").
    const buffer = new ArrayBuffer(n * classes * 4 + n * 4 + n);
    const probabilities = new Float32Array(buffer, 0, n * classes);
    const featureCounts = new Uint32Array(buffer, n * classes * 4, n);
    const expired = new Uint8Array(buffer, n * classes * 4 + n * 4, n);
    // The texts still wanted, by their index in the task (where their rows go).
    const live: number[] = [];
    for (let i = 0; i < n; i++) {
      if (task.deadlines[i]! <= now) expired[i] = 1;
      else live.push(i);
    }
    const texts = live.length === n ? task.texts : live.map((i) => task.texts[i]!);
    if (texts.length > 0) {
      // All the texts' ids in one buffer, each text a view of its part.
      const batch = featurizeBatch(texts, features);
      const ids = live.map((_, j) => batch.ids.subarray(batch.offsets[j], batch.offsets[j + 1]));
      live.forEach((i, j) => (featureCounts[i] = ids[j]!.length));
      const { order, slices } = sliceByLength(ids, paddingIds);
      let row = 0;
      for (const slice of slices) {
        const output = await runPacked(session, slice);
        for (let r = 0; r < slice.batch; r++, row++) {
          probabilities.set(output.subarray(r * classes, (r + 1) * classes), live[order[row]!]! * classes);
        }
      }
    }
    return move(
      new MovedResult({ probabilities, featureCounts, expired, threadId }),
    ) as unknown as WorkerResult;
  } finally {
    loaded.users -= 1;
    if (loaded.evicted && loaded.users === 0) release(loaded);
  }
}

/**
 * Padding, in ids, worth one more ONNX Runtime run, by precision. The graph takes `[batch, longest]` ids,
 * so a batch of mixed lengths pays for its longest text on every row, but each run has a fixed cost too:
 * on the skills' model ~30 µs (FP32) and ~65 µs (INT8, four times the graph nodes) a run against ~0.02 µs
 * an id, so a run costs as much as 1,500 to 3,250 ids of padding. Measured on the benchmark's chat-sized
 * texts (4 to ~140 ids), INT8 time per batch against the earlier limit of 256: 128 texts 723 -> 486 µs, 14
 * texts 190 -> 118 µs (FP32 475 -> 381, 101 -> 74). INT8's dearer runs make it worth more padding: at
 * 16,384 rather than 4,096 a batch of 128 of those texts runs once instead of twice, in 610-804 µs instead
 * of 658-1,013 (five paired runs on an AVX2 machine); FP32 read the same either way (496-591 against
 * 504-572), so it keeps 4,096. Texts far longer than the rest (thousands of ids) still run apart from the
 * short ones.
 */
export const SLICE_PADDING_IDS = { fp32: 4096, int8: 16_384 } as const satisfies Record<
  OnnxPrecision,
  number
>;

/**
 * Most id slots (`batch * longest`) in one run, unless one text alone is longer. The run's intermediates
 * grow with its slots (FP32 gathers 256 bytes a slot): a batch of 128 texts of words at the 4,096-character
 * limit (~1.5M slots, one run) took the process of a one-worker engine from 286 to 697 MB (INT8: 209 to
 * 370). Cut at this size (~17 MB a run) it peaks at 323 MB (INT8 260), and the batch runs in 192 ms, not
 * 209 (INT8 137, not 149): the extra runs cost less than the big one lost to cache misses. One text is
 * never split: at 4,096 characters it can make up to ~200k ids (NFKC expands some characters to many
 * words), ~53 MB in a run of its own.
 */
export const MAX_RUN_IDS = 65_536;

/** `sliceByLength`'s sort keys, reused (it runs synchronously). */
let sortKeys = new Float64Array(128);

/**
 * Sorts a batch's id lists by length and cuts it into slices, each packed to its own longest text.
 * `order[row]` is the index in `ids` of the row-th text of the slices, taken one after the other.
 */
export function sliceByLength(
  ids: readonly Int32Array[],
  paddingIds: number,
): { order: number[]; slices: PackedBatch[] } {
  // Sort keys `length * n + index`: a typed-array sort, far cheaper than a comparator per pair.
  const n = ids.length;
  if (sortKeys.length < n) sortKeys = new Float64Array(Math.max(n, 2 * sortKeys.length));
  const keys = sortKeys.subarray(0, n);
  for (let index = 0; index < n; index++) keys[index] = ids[index]!.length * n + index;
  keys.sort();
  const order = Array.from(keys, (key) => key % n);
  const slices: PackedBatch[] = [];
  let slice: Int32Array[] = [];
  let sum = 0;
  for (const index of order) {
    const next = ids[index]!;
    // Sorted, so `next` is the longest yet: the slice's slots, and its padding, if `next` joins it.
    const slots = (slice.length + 1) * next.length;
    if (slice.length > 0 && (slots - (sum + next.length) > paddingIds || slots > MAX_RUN_IDS)) {
      slices.push(packBatch(slice));
      slice = [];
      sum = 0;
    }
    slice.push(next);
    sum += next.length;
  }
  slices.push(packBatch(slice));
  return { order, slices };
}
