/**
 * One inference worker (a piscina worker thread): runs packed batches on its own ONNX Runtime session
 * (one intra-op thread, spinning off). Sessions are loaded on first use of a model version and the two
 * most recent are kept, so batches of the previous version still in the queue during a swap finish on it.
 */
import { move } from 'piscina';
import { createOnnxSession, runPacked, type OnnxSession, type PackedBatch } from '../onnx/index.js';

/** What the engine sends: a batch of feature ids, its buffers transferred (not copied). */
export interface WorkerTask extends PackedBatch {
  /** The registry version the ids were made for. */
  readonly version: string;
  /** Its `.onnx` file. */
  readonly path: string;
}

const KEEP_VERSIONS = 2;
const sessions = new Map<string, Promise<OnnxSession>>();

function sessionFor(version: string, path: string): Promise<OnnxSession> {
  let session = sessions.get(version);
  if (session) {
    sessions.delete(version); // re-insert: the Map's order is the recency order
  } else {
    session = createOnnxSession(path, { intraOpNumThreads: 1 });
    session.catch(() => sessions.delete(version)); // a failed load is retried by the next batch
  }
  sessions.set(version, session);
  for (const [old, stale] of sessions) {
    if (sessions.size <= KEEP_VERSIONS) break;
    sessions.delete(old);
    // This worker runs one task at a time, so nothing else is using the evicted session.
    void stale.then((s) => s.release()).catch(() => undefined);
  }
  return session;
}

/** Runs one batch: `[batch, classes]` probabilities, their buffer transferred back (not copied). */
export default async function runBatch(task: WorkerTask): Promise<Float32Array> {
  const session = await sessionFor(task.version, task.path);
  return move(await runPacked(session, task)) as Float32Array;
}
