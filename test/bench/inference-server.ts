/**
 * The gRPC inference service as a process of its own, for `inference.bench.ts`, so the benchmark's
 * client and the server do not share an event loop:
 *
 * ```
 * node --import tsx test/bench/inference-server.ts <registry-dir> <version> <int8|fp32> <maxBatch> <threads> [maxQueueDelayMicros]
 * ```
 *
 * Listens on 127.0.0.1 (a free port) and prints the port as one line on stdout. Then each `stats` line
 * on stdin is answered with the engine's stats and the process's CPU time (`cpuMicros`) as one JSON
 * line; when stdin closes it shuts down.
 */
import { createInterface } from 'node:readline';
import { openModelRegistry } from '../../models/index.js';
import { createInferenceEngine, startInferenceServer } from '../../models/serve/index.js';

const [registryDir, version, precision, maxBatch, threads, delay] = process.argv.slice(2);
if (
  registryDir === undefined ||
  version === undefined ||
  (precision !== 'int8' && precision !== 'fp32') ||
  maxBatch === undefined ||
  threads === undefined
) {
  console.error(
    'usage: inference-server.ts <registry-dir> <version> <int8|fp32> <maxBatch> <threads> [maxQueueDelayMicros]',
  );
  process.exit(2);
}

const engine = await createInferenceEngine({
  model: await openModelRegistry(registryDir).get(version),
  precision,
  threads: Number(threads),
  maxBatch: Number(maxBatch),
  ...(delay !== undefined && { maxQueueDelayMicros: Number(delay) }),
});
const server = await startInferenceServer({ engine, address: '127.0.0.1:0' });
console.log(String(server.port));

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  if (line.trim() !== 'stats') return;
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ ...engine.stats(), cpuMicros: cpu.user + cpu.system }));
});
commands.on('close', () => {
  void server.shutdown(1000).then(() => process.exit(0));
});
