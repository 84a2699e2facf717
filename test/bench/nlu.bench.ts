/**
 * Intent model benchmark on CLINC150 (full): Parley's model (FP32 and INT8, run in ONNX Runtime) beside
 * NLP.js (node-nlp) trained and evaluated on the same split, in one run. Run with `make bench-nlu`
 * (= `npm run bench:nlu`); figures go to docs/benchmarks.md ("Intent model").
 *
 * Data: `../shared/datasets/clinc150/data_full.json` next to the repository (or PARLEY_BENCH_CLINC150);
 * it is read from there, never copied into the project. Training uses train + oos_train with early
 * stopping on val + oos_val; every figure is on test + oos_test (4,500 in scope, 1,000 out of scope).
 * Latency: one text per call (featurise + session.run), p50/p99 over 2,000 calls after a warm-up;
 * throughput: batches of 256 over the whole test split.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NlpManager } from 'node-nlp';
import {
  OUT_OF_SCOPE,
  createOnnxSession,
  evaluate,
  exportOnnx,
  featurize,
  isOutOfScope,
  loadDataset,
  readOnnxMetadata,
  runOnnx,
  trainIntentModel,
  type Evaluation,
  type Example,
  type OnnxSession,
} from '../../models/index.js';

const CLINC150 =
  process.env.PARLEY_BENCH_CLINC150 ??
  fileURLToPath(new URL('../../../shared/datasets/clinc150/data_full.json', import.meta.url));

interface Row {
  readonly system: string;
  readonly inScope: string;
  readonly oosRecall: string;
  readonly macroF1: string;
  readonly size: string;
  readonly trainS: string;
  readonly p50: string;
  readonly p99: string;
  readonly throughput: string;
}

const pct = (value: number | undefined): string =>
  value === undefined ? '-' : `${(value * 100).toFixed(2)}%`;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const micros = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function scoreOnnx(session: OnnxSession, bytes: Uint8Array, test: readonly Example[]) {
  const metadata = readOnnxMetadata(bytes);
  const ids = test.map((example) => featurize(example.text, metadata.features));
  const predictions: Array<{ label: string; outOfScope: boolean }> = [];
  const started = performance.now();
  for (let start = 0; start < ids.length; start += 256) {
    for (const probabilities of await runOnnx(session, ids.slice(start, start + 256))) {
      let top = 0;
      for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[top]!) top = i;
      const label = metadata.labels[top] ?? '';
      predictions.push({ label, outOfScope: isOutOfScope(metadata, label, probabilities[top] ?? 0) });
    }
  }
  const throughput = test.length / ((performance.now() - started) / 1000);

  const latencies: number[] = [];
  for (let i = 0; i < 2200; i++) {
    const text = test[i % test.length]!.text;
    const begin = performance.now();
    await runOnnx(session, [featurize(text, metadata.features)]);
    if (i >= 200) latencies.push(performance.now() - begin);
  }
  latencies.sort((a, b) => a - b);
  return {
    evaluation: evaluate(test, predictions),
    throughput,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

async function benchNodeNlp(train: readonly Example[], test: readonly Example[]): Promise<Row> {
  const manager = new NlpManager({
    languages: ['en'],
    forceNER: false,
    autoSave: false,
    nlu: { log: false },
  });
  // NLP.js has no explicit out-of-scope class: 'None' is what it answers below its threshold.
  for (const example of train)
    if (example.label !== OUT_OF_SCOPE) manager.addDocument('en', example.text, example.label);
  const started = performance.now();
  await manager.train();
  const trainS = (performance.now() - started) / 1000;

  const predictions: Array<{ label: string; outOfScope: boolean }> = [];
  const latencies: number[] = [];
  const scored = performance.now();
  for (const example of test) {
    const begin = performance.now();
    const result = await manager.process('en', example.text);
    latencies.push(performance.now() - begin);
    predictions.push({ label: result.intent, outOfScope: result.intent === 'None' });
  }
  const throughput = test.length / ((performance.now() - scored) / 1000);
  latencies.sort((a, b) => a - b);
  const evaluation = evaluate(test, predictions);
  return {
    system: 'NLP.js (node-nlp)',
    inScope: pct(evaluation.inScopeAccuracy),
    oosRecall: pct(evaluation.outOfScopeRecall),
    macroF1: pct(evaluation.macroF1),
    size: '-',
    trainS: trainS.toFixed(1),
    p50: micros(quantile(latencies, 0.5)),
    p99: micros(quantile(latencies, 0.99)),
    throughput: `${throughput.toFixed(0)}/s (one at a time)`,
  };
}

function row(
  system: string,
  scored: { evaluation: Evaluation; throughput: number; p50: number; p99: number },
  size: number,
  trainS: string,
): Row {
  return {
    system,
    inScope: pct(scored.evaluation.inScopeAccuracy),
    oosRecall: pct(scored.evaluation.outOfScopeRecall),
    macroF1: pct(scored.evaluation.macroF1),
    size: mb(size),
    trainS,
    p50: micros(scored.p50),
    p99: micros(scored.p99),
    throughput: `${scored.throughput.toFixed(0)}/s (batch 256)`,
  };
}

async function main(): Promise<void> {
  if (!existsSync(CLINC150)) {
    console.log(`bench-nlu: skipped: CLINC150 not found at ${CLINC150} (set PARLEY_BENCH_CLINC150)`);
    return;
  }
  const dataset = await loadDataset(CLINC150);
  const test = dataset.test ?? [];
  console.log(
    `CLINC150 full: ${dataset.train.length} train, ${dataset.validation?.length ?? 0} validation, ${test.length} test; ` +
      `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
  );

  const started = performance.now();
  const model = await trainIntentModel({ train: dataset.train, validation: dataset.validation });
  const trainS = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `Parley model trained in ${trainS} s (${model.metrics.epochs} epochs, kept ${model.metrics.bestEpoch})`,
  );

  const rows: Row[] = [];
  for (const precision of ['fp32', 'int8'] as const) {
    const bytes = exportOnnx(model, { precision });
    const session = await createOnnxSession(bytes);
    rows.push(
      row(
        `Parley ${precision.toUpperCase()} (ONNX Runtime)`,
        await scoreOnnx(session, bytes, test),
        bytes.byteLength,
        trainS,
      ),
    );
    await session.release();
  }
  rows.push(await benchNodeNlp(dataset.train, test));

  const columns: Array<[keyof Row, string]> = [
    ['system', 'system'],
    ['inScope', 'in-scope acc'],
    ['oosRecall', 'oos recall'],
    ['macroF1', 'macro-F1'],
    ['size', 'model size'],
    ['trainS', 'train s'],
    ['p50', 'p50 (1 text)'],
    ['p99', 'p99 (1 text)'],
    ['throughput', 'throughput'],
  ];
  console.log(`| ${columns.map(([, title]) => title).join(' | ')} |`);
  console.log(`|${columns.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${columns.map(([key]) => r[key]).join(' | ')} |`);
  console.log(
    'Paper (Larson et al. 2019, CLINC150 full): FastText 89.0 / 9.7, Rasa 91.5 / 45.3, BERT 96.2 / 52.3 (in-scope acc / oos recall).',
  );
}

await main();
