/**
 * `parley model ...`: train a model from a data file, evaluate one, show the registry, and build the
 * installed skills' model (what `make model` runs at install).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildModel,
  createOnnxSession,
  createProgressBar,
  evaluate,
  featurize,
  isOutOfScope,
  loadDataset,
  openModelRegistry,
  readOnnxMetadata,
  runOnnx,
  type Dataset,
  type Evaluation,
  type Example,
  type ModelEntry,
} from '../models/index.js';
import { loadSkills } from './assistant.js';
import type { Config } from './config-schema.js';
import { ensureSkillsModel, modelRegistryDir } from './intent-model.js';
import { createLogger } from './logger.js';

export const MODEL_USAGE = `Usage:
  parley model train --data FILE --out DIR [--seed N]
      Train on FILE (Parley intents JSON, plugins folder, CSV with text,label, Rasa nlu.yml, or CLINC150
      JSON; detected from the file) and publish the model as the current version of the registry DIR.
  parley model eval --model DIR --data FILE [--precision int8|fp32]
      Score a model (a registry's current version, or one version's folder) on FILE's test split
      (or all of it): in-scope accuracy, macro-F1, out-of-scope recall, most confused pairs.
  parley model info [--model DIR]
      Show the registry (default: <dataDir>/models) and its current version.
  parley model build
      Train the installed skills' model if their examples changed (run by \`make model\`).`;

export interface ModelCommandOptions {
  readonly data?: string | undefined;
  readonly out?: string | undefined;
  readonly model?: string | undefined;
  readonly seed?: string | undefined;
  readonly precision?: string | undefined;
}

const print = (line = ''): void => void process.stdout.write(`${line}\n`);
const percent = (value: number | undefined): string =>
  value === undefined ? '-' : `${(value * 100).toFixed(2)}%`;
const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export async function runModelCommand(
  subcommand: string | undefined,
  options: ModelCommandOptions,
  config: Config,
): Promise<number> {
  switch (subcommand) {
    case 'train':
      return train(required(options.data, '--data'), required(options.out, '--out'), options.seed);
    case 'eval':
      return evaluateCommand(
        required(options.model, '--model'),
        required(options.data, '--data'),
        options.precision,
      );
    case 'info':
      return info(options.model ?? modelRegistryDir(config.dataDir));
    case 'build':
      return build(config);
    default:
      process.stderr.write(`${MODEL_USAGE}\n`);
      return 2;
  }
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}
export { UsageError as ModelUsageError };

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`parley model: ${flag} is required\n\n${MODEL_USAGE}`);
  return value;
}

async function train(dataFile: string, outDir: string, seed: string | undefined): Promise<number> {
  const dataset = await loadDataset(dataFile);
  print(
    `${dataset.format} data from ${dataset.source}: ${describeSplits(dataset)}, ${dataset.labels.length} intents`,
  );
  const started = performance.now();
  const built = await buildModel(dataset, {
    ...(seed === undefined ? {} : { seed: parseSeed(seed) }),
    onProgress: createProgressBar().onProgress,
  });
  const registry = openModelRegistry(outDir);
  const entry = await registry.publish(built.toPublish);
  await registry.activate(entry.metadata.version);
  print(
    `trained in ${((performance.now() - started) / 1000).toFixed(1)} s; model ${entry.metadata.version} in ${entry.dir}`,
  );
  printMetadata(entry);
  if (dataset.test) {
    print();
    print(`test split (${dataset.test.length} examples), INT8 in ONNX Runtime:`);
    printEvaluation(await scoreOnnx(entry.int8Path, dataset.test));
  }
  return 0;
}

async function evaluateCommand(
  model: string,
  dataFile: string,
  precision: string | undefined,
): Promise<number> {
  if (precision !== undefined && precision !== 'int8' && precision !== 'fp32') {
    throw new UsageError(`parley model eval: --precision is int8 or fp32, got '${precision}'`);
  }
  const entry = await resolveModel(model);
  const dataset = await loadDataset(dataFile);
  const [split, examples] = dataset.test
    ? ['test', dataset.test]
    : (['all', [...dataset.train, ...(dataset.validation ?? [])]] as const);
  print(
    `model ${entry.metadata.version} (${precision ?? 'int8'}) on ${dataset.source}, ${split} split: ${examples.length} examples`,
  );
  printEvaluation(await scoreOnnx(precision === 'fp32' ? entry.fp32Path : entry.int8Path, examples));
  return 0;
}

async function info(dir: string): Promise<number> {
  const registry = openModelRegistry(dir);
  const versions = await registry.list();
  const current = await registry.current();
  print(`registry ${dir}: ${versions.length} version(s)`);
  for (const entry of versions) {
    const marker = entry.metadata.version === current?.metadata.version ? '*' : ' ';
    print(
      ` ${marker} ${entry.metadata.version}  ${entry.metadata.createdAt}  ${entry.metadata.labels.length} labels  ${entry.metadata.source}`,
    );
  }
  if (current) {
    print();
    printMetadata(current);
  } else {
    print('no current version: train one with `parley model train` or `parley model build`');
  }
  return 0;
}

async function build(config: Config): Promise<number> {
  const logger = createLogger({ level: 'warn', destination: 2, pretty: config.log.pretty });
  const host = await loadSkills(config, logger);
  const entry = await ensureSkillsModel(config.dataDir, host.intents(), logger, { progress: true });
  print(`skills model ${entry.metadata.version} is current in ${modelRegistryDir(config.dataDir)}`);
  printMetadata(entry);
  return 0;
}

/** A registry folder (its current version) or one version's folder. */
async function resolveModel(path: string): Promise<ModelEntry> {
  const registry = openModelRegistry(path);
  const current = await registry.current();
  if (current) return current;
  const isVersionDir = await stat(join(path, 'metadata.json')).then(
    () => true,
    () => false,
  );
  if (isVersionDir)
    return openModelRegistry(join(path, '..')).get(path.replace(/\/+$/, '').split('/').pop() ?? '');
  throw new UsageError(
    `parley model: no model in ${path} (neither a registry with a current version nor a version folder)`,
  );
}

async function scoreOnnx(path: string, examples: readonly Example[]): Promise<Evaluation> {
  const bytes = new Uint8Array(await readFile(path));
  const metadata = readOnnxMetadata(bytes);
  const session = await createOnnxSession(bytes);
  const predictions = [];
  try {
    for (let start = 0; start < examples.length; start += 256) {
      const batch = examples.slice(start, start + 256);
      const outputs = await runOnnx(
        session,
        batch.map((example) => featurize(example.text, metadata.features)),
      );
      for (const probabilities of outputs) {
        let top = 0;
        for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[top]!) top = i;
        const label = metadata.labels[top] ?? '';
        predictions.push({ label, outOfScope: isOutOfScope(metadata, label, probabilities[top] ?? 0) });
      }
    }
  } finally {
    await session.release();
  }
  return evaluate(examples, predictions);
}

function printEvaluation(evaluation: Evaluation): void {
  print(
    `  in-scope accuracy   ${percent(evaluation.inScopeAccuracy)}  (${evaluation.inScopeExamples} examples)`,
  );
  print(`  macro-F1            ${percent(evaluation.macroF1)}`);
  if (evaluation.outOfScopeExamples > 0) {
    print(
      `  out-of-scope recall ${percent(evaluation.outOfScopeRecall)}  (${evaluation.outOfScopeExamples} examples)`,
    );
  }
  if (evaluation.confused.length > 0) {
    print('  most confused (expected -> predicted):');
    for (const pair of evaluation.confused.slice(0, 5))
      print(`    ${pair.count}x  ${pair.expected} -> ${pair.predicted}`);
  }
}

function printMetadata(entry: ModelEntry): void {
  const m = entry.metadata;
  print(`version   ${m.version} (created ${m.createdAt})`);
  print(
    `labels    ${m.labels.length}${m.outOfScopeLabel ? ` (explicit out-of-scope class '${m.outOfScopeLabel}')` : ''}`,
  );
  print(
    `features  ${m.features.buckets} buckets, word n-grams 1..${m.features.wordNgrams}, char n-grams ${m.features.charNgrams.join('..')}`,
  );
  print(`threshold ${m.threshold.toFixed(3)}`);
  print(
    `size      FP32 ${megabytes(m.sizes.fp32)}, INT8 ${megabytes(m.sizes.int8)} (${percent(m.sizes.int8 / m.sizes.fp32)})`,
  );
  print(`data      ${m.source}, sha256 ${m.dataHash.slice(0, 16)}...`);
  print(
    `metrics   ${Object.entries(m.metrics)
      .map(([key, value]) => `${key}=${Number.isInteger(value) ? value : value.toFixed(4)}`)
      .join(' ')}`,
  );
}

function describeSplits(dataset: Dataset): string {
  const parts = [`${dataset.train.length} train`];
  if (dataset.validation) parts.push(`${dataset.validation.length} validation`);
  if (dataset.test) parts.push(`${dataset.test.length} test`);
  return parts.join(', ');
}

function parseSeed(seed: string): number {
  const value = Number(seed);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new UsageError(`parley model train: --seed is a whole number, got '${seed}'`);
  return value;
}
