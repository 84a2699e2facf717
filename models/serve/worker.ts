/**
 * One inference worker (a piscina worker thread): runs packed batches on its own ONNX Runtime session
 * (one intra-op thread, spinning off). Sessions are loaded on first use of a model version and the two
 * most recent are kept, so batches of the previous version still in the queue during a swap finish on it;
 * an evicted session is released once no batch runs on it.
 */
import { move } from 'piscina';
import { createOnnxSession, runPacked, type OnnxSession, type PackedBatch } from '../onnx/index.js';

/** What the engine sends: a batch of feature ids, its buffers transferred (not copied). */
export interface WorkerTask {
  /** The batch in slices of texts of similar length, each padded to its own longest (see engine.ts). */
  readonly slices: readonly PackedBatch[];
  /** The registry version the ids were made for. */
  readonly version: string;
  /** Its `.onnx` file. */
  readonly path: string;
}

const KEEP_VERSIONS = 2;

interface LoadedSession {
  readonly session: Promise<OnnxSession>;
  /** Batches running on it now: a worker takes a second batch while it runs one (see engine.ts). */
  users: number;
  /** Dropped from `sessions`: released when its last batch ends. */
  evicted: boolean;
}

const sessions = new Map<string, LoadedSession>();

function sessionFor(version: string, path: string): LoadedSession {
  let loaded = sessions.get(version);
  if (loaded) {
    sessions.delete(version); // re-insert: the Map's order is the recency order
  } else {
    const fresh: LoadedSession = {
      session: createOnnxSession(path, { intraOpNumThreads: 1 }),
      users: 0,
      evicted: false,
    };
    // A failed load is retried by the next batch.
    fresh.session.catch(() => {
      if (sessions.get(version) === fresh) sessions.delete(version);
    });
    loaded = fresh;
  }
  sessions.set(version, loaded);
  for (const [old, stale] of sessions) {
    if (sessions.size <= KEEP_VERSIONS) break;
    sessions.delete(old);
    stale.evicted = true;
    if (stale.users === 0) release(stale);
  }
  return loaded;
}

function release(loaded: LoadedSession): void {
  void loaded.session.then((s) => s.release()).catch(() => undefined);
}

/**
 * Runs one batch: `[rows, classes]` probabilities of the slices' rows, slice after slice, their buffer
 * transferred back (not copied).
 */
export default async function runBatch(task: WorkerTask): Promise<Float32Array> {
  const loaded = sessionFor(task.version, task.path);
  loaded.users += 1;
  try {
    const session = await loaded.session;
    const outputs: Float32Array[] = [];
    for (const slice of task.slices) outputs.push(await runPacked(session, slice));
    let probabilities = outputs[0] ?? new Float32Array(0);
    if (outputs.length > 1) {
      probabilities = new Float32Array(outputs.reduce((sum, output) => sum + output.length, 0));
      let at = 0;
      for (const output of outputs) {
        probabilities.set(output, at);
        at += output.length;
      }
    }
    return move(probabilities) as Float32Array;
  } finally {
    loaded.users -= 1;
    if (loaded.evicted && loaded.users === 0) release(loaded);
  }
}
