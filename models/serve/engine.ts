/**
 * The inference engine: the dynamic batcher in front of a piscina pool of ONNX Runtime workers. The
 * gRPC server (`parley serve inference`) wraps it; the embedded `all` role uses it in-process.
 *
 * The path of one text: checked here -> queued in the batcher -> sent with its batch to a worker, which
 * featurises the texts, packs those of similar length into typed arrays and runs them -> probabilities
 * transferred back -> top-k and the out-of-scope rule applied here. The serving thread does no per-text
 * work beyond that, so it stays free for I/O however large the batches. A text whose deadline passes
 * before its batch starts is not run, whether the batch waited in the queue or at a busy worker.
 *
 * A model swap loads the new version in the workers first, then routes new requests to it; requests
 * already queued keep the version they were admitted with (workers keep the previous session), so a swap
 * drops and fails nothing.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { readFile } from 'node:fs/promises';
import { Piscina } from 'piscina';
import { isOutOfScope } from '../model/index.js';
import { readOnnxMetadata, type OnnxModelMetadata } from '../onnx/index.js';
import type { ModelEntry } from '../registry/index.js';
import { createBatcher, type BatcherStats } from './batcher.js';
import { InferenceError, InferenceErrorCode } from './errors.js';
import { cachePiscinaWorkerInterface } from './piscina-interface.js';
import {
  MAX_TOP_K,
  type Prediction,
  type PredictOptions,
  type ServedModel,
  type VersionedPrediction,
} from './types.js';
import type { WorkerResult, WorkerTask } from './worker.js';

export interface InferenceEngineOptions {
  /** The version to serve first. */
  readonly model: ModelEntry;
  /** Which export runs. @default 'int8' */
  readonly precision?: 'int8' | 'fp32';
  /** Worker threads, each with one ONNX Runtime session. @default available cores - 1 (at least 1) */
  readonly threads?: number;
  /** Most texts in one batch; 1 turns batching off. @default 128 */
  readonly maxBatch?: number;
  /** Longest a text waits for company while every worker is busy. @default 500 */
  readonly maxQueueDelayMicros?: number;
  /** Most texts waiting; more get `queue_full`. @default 8192 */
  readonly maxQueue?: number;
  /** Longest text taken, in UTF-16 code units (what `string.length` counts). @default 4096 */
  readonly maxTextChars?: number;
}

export interface EngineStats extends BatcherStats {
  readonly threads: number;
  /** Batches each worker thread has run, by thread id: how evenly the pool shares the work. */
  readonly batchesPerWorker: Readonly<Record<number, number>>;
  readonly version: string;
}

export interface InferenceEngine {
  /** The model new requests are served by. */
  readonly model: ServedModel;
  /** Longest text taken, in UTF-16 code units (`InferenceEngineOptions.maxTextChars`). */
  readonly maxTextChars: number;
  predict(text: string, options?: PredictOptions): Promise<VersionedPrediction>;
  /** Many texts, answered in order by one model version. */
  predictBatch(
    texts: readonly string[],
    options?: PredictOptions,
  ): Promise<{ predictions: Prediction[]; version: string }>;
  /** Serves `entry` from now on; resolves once the workers have loaded it. */
  swap(entry: ModelEntry): Promise<void>;
  /** Calls `listener` after each swap; returns the unsubscribe function. */
  onModelChange(listener: (model: ServedModel) => void): () => void;
  stats(): EngineStats;
  /** Refuses new requests, finishes queued ones, stops the workers. */
  close(): Promise<void>;
}

interface LoadedModel {
  readonly served: ServedModel;
  readonly metadata: OnnxModelMetadata;
  readonly path: string;
}

interface Item {
  readonly text: string;
  readonly topK: number;
  readonly model: LoadedModel;
  /** Wall-clock deadline (`Date.now()`), Infinity for none: the worker checks it as the batch starts. */
  readonly deadline: number;
}

const WORKER_FILE = new URL('./worker-entry.mjs', import.meta.url).href;
/**
 * V8's memory reducer compacts a small heap once its isolate looks idle, a 3-7 ms mark-compact each time.
 * A worker isolate is small (~5-9 MB) and idle between batches, so it ran them every few seconds, each
 * holding the batch that arrived meanwhile (probe at concurrency 1, 20,000 calls: 9-13 such collections,
 * and 20% fewer calls over 2 ms without them). The flag is process-wide; the price is idle small heaps
 * kept at their size.
 */
const QUIET_GC_FLAG = '--no-memory-reducer-for-small-heaps';

export async function createInferenceEngine(options: InferenceEngineOptions): Promise<InferenceEngine> {
  const precision = options.precision ?? 'int8';
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const maxTextChars = options.maxTextChars ?? 4096;
  setFlagsFromString(QUIET_GC_FLAG);
  cachePiscinaWorkerInterface();
  const pool = new Piscina<WorkerTask, WorkerResult>({
    filename: WORKER_FILE,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.MAX_SAFE_INTEGER,
    // The batch running and the one handed off (the batcher's `handoff`): a worker starts the next batch
    // as soon as one ends, instead of idling while the result and the next task cross the main thread
    // (~30% of its time at full load). ONNX Runtime still runs one batch at a time on each.
    concurrentTasksPerWorker: 2,
  });

  /** Runs a batch of texts on a worker. */
  const batchesByWorker = new Map<number, number>();
  const runOnPool = async (
    model: LoadedModel,
    texts: readonly string[],
    deadlines: readonly number[],
  ): Promise<WorkerResult> => {
    const task: WorkerTask = { texts, deadlines, version: model.served.version, path: model.path };
    try {
      const result: WorkerResult = await pool.run(task);
      batchesByWorker.set(result.threadId, (batchesByWorker.get(result.threadId) ?? 0) + 1);
      return result;
    } catch (error) {
      throw new InferenceError(
        InferenceErrorCode.ModelFailed,
        `model ${model.served.version} failed to run`,
        {
          cause: error,
        },
      );
    }
  };

  const load = async (entry: ModelEntry): Promise<LoadedModel> => {
    const path = precision === 'int8' ? entry.int8Path : entry.fp32Path;
    let metadata: OnnxModelMetadata;
    try {
      metadata = readOnnxMetadata(new Uint8Array(await readFile(path)));
    } catch (error) {
      throw new InferenceError(
        InferenceErrorCode.ModelFailed,
        `cannot load model ${entry.metadata.version} from ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const loaded: LoadedModel = {
      path,
      metadata,
      served: {
        version: entry.metadata.version,
        precision,
        labels: metadata.labels,
        threshold: metadata.threshold,
        createdAt: new Date(entry.metadata.createdAt),
        servingSince: new Date(),
      },
    };
    // One batch per thread, at once: each idle worker takes one and loads the session, so the first real
    // requests do not wait for it (and a model the workers cannot load fails here, not later).
    await Promise.all(Array.from({ length: threads }, () => runOnPool(loaded, ['hello'], [Infinity])));
    return { ...loaded, served: { ...loaded.served, servingSince: new Date() } };
  };

  let current: LoadedModel;
  try {
    current = await load(options.model);
  } catch (error) {
    await pool.destroy();
    throw error;
  }
  const listeners = new Set<(model: ServedModel) => void>();
  /** Texts a worker skipped because their deadline passed while their batch waited for it. */
  let expiredAtWorker = 0;

  // A text that expired at the worker is answered with its error; the rest of its batch with predictions.
  const batcher = createBatcher<Item, Prediction | InferenceError>({
    concurrency: threads,
    maxBatch: options.maxBatch ?? 128,
    maxQueueDelayMicros: options.maxQueueDelayMicros ?? 500,
    maxQueue: options.maxQueue ?? 8192,
    compatible: (a, b) => a.model === b.model,
    async run(items) {
      const model = items[0]!.model;
      const { probabilities, featureCounts, expired } = await runOnPool(
        model,
        items.map((item) => item.text),
        items.map((item) => item.deadline),
      );
      const classes = model.metadata.labels.length;
      return items.map((item, row) => {
        if (expired[row] === 1) {
          expiredAtWorker += 1;
          return new InferenceError(
            InferenceErrorCode.DeadlineExceeded,
            'the deadline passed while the request waited for a worker',
          );
        }
        return featureCounts[row] === 0
          ? { intent: undefined, confidence: 0, top: [] }
          : predictionOf(
              model.metadata,
              probabilities.subarray(row * classes, (row + 1) * classes),
              item.topK,
            );
      });
    },
  });

  const admit = (
    texts: readonly string[],
    predictOptions: PredictOptions,
  ): { items: Item[]; deadline?: number } => {
    const topK = predictOptions.topK ?? 1;
    if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) {
      throw new InferenceError(
        InferenceErrorCode.InvalidArgument,
        `top_k must be 1 to ${MAX_TOP_K}, got ${topK}`,
      );
    }
    const model = current;
    const deadline = predictOptions.deadline ?? Infinity;
    const items = texts.map((text, index) => {
      if (text.length > maxTextChars) {
        throw new InferenceError(
          InferenceErrorCode.InvalidArgument,
          `${texts.length === 1 ? 'the text' : `text ${index}`} is ${text.length} characters long; the limit is ${maxTextChars}`,
        );
      }
      return { text, topK, model, deadline };
    });
    if (predictOptions.deadline === undefined) return { items };
    // The batcher's clock is monotonic; deadlines arrive on the wall clock.
    return { items, deadline: performance.now() + (predictOptions.deadline - Date.now()) };
  };

  return {
    get model() {
      return current.served;
    },
    maxTextChars,
    async predict(text, predictOptions = {}) {
      const { items, deadline } = admit([text], predictOptions);
      const item = items[0]!;
      const prediction = await batcher.submit(item, deadline === undefined ? {} : { deadline });
      if (prediction instanceof InferenceError) throw prediction;
      return { prediction, version: item.model.served.version };
    },
    async predictBatch(texts, predictOptions = {}) {
      if (texts.length === 0) {
        throw new InferenceError(InferenceErrorCode.InvalidArgument, 'the batch has no texts');
      }
      const { items, deadline } = admit(texts, predictOptions);
      const answers = await batcher.submitAll(items, deadline === undefined ? {} : { deadline });
      const predictions: Prediction[] = [];
      for (const answer of answers) {
        if (answer instanceof InferenceError) throw answer;
        predictions.push(answer);
      }
      return { predictions, version: items[0]!.model.served.version };
    },
    async swap(entry) {
      current = await load(entry);
      for (const listener of listeners) listener(current.served);
    },
    onModelChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats() {
      const queue = batcher.stats();
      return {
        ...queue,
        expired: queue.expired + expiredAtWorker,
        threads,
        batchesPerWorker: Object.fromEntries(batchesByWorker),
        version: current.served.version,
      };
    },
    async close() {
      await batcher.close();
      await pool.destroy();
    },
  };
}

/** The best `topK` labels of one row, and the best one unless the model's out-of-scope rule says no. */
function predictionOf(metadata: OnnxModelMetadata, probabilities: Float32Array, topK: number): Prediction {
  const order: number[] = [];
  for (let i = 0; i < probabilities.length; i++) {
    // Insertion into a list of at most topK indices, best first.
    let at = order.length;
    while (at > 0 && probabilities[i]! > probabilities[order[at - 1]!]!) at -= 1;
    if (at < topK) {
      order.splice(at, 0, i);
      if (order.length > topK) order.pop();
    }
  }
  const top = order.map((index) => ({ intent: metadata.labels[index]!, probability: probabilities[index]! }));
  const best = top[0]!;
  return {
    intent: isOutOfScope(metadata, best.intent, best.probability) ? undefined : best.intent,
    confidence: best.probability,
    top,
  };
}
