/**
 * Keeps the installed skills' intent model up to date: the registry in `<dataDir>/models` holds the
 * version trained on exactly the current plugins' examples, trained here when they changed.
 */
import { join } from 'node:path';
import {
  buildModel,
  createProgressBar,
  datasetFromManifests,
  openModelRegistry,
  trainingDataHash,
  type IntentSpec,
  type ModelEntry,
  type TrainOptions,
} from '../models/index.js';
import type { Logger } from './logger.js';

/**
 * Training settings for the skills' model: a few hundred examples, so a small table trains in about a
 * second at install and whenever plugins change. Fixed seed: same plugins, same model.
 */
export const SKILLS_TRAIN_OPTIONS: TrainOptions = {
  seed: 7,
  features: { buckets: 2 ** 16 },
};

export function modelRegistryDir(dataDir: string): string {
  return join(dataDir, 'models');
}

/** Resolves the registry entry trained on `intents`' examples, training and activating it if needed. */
export async function ensureSkillsModel(
  dataDir: string,
  intents: readonly IntentSpec[],
  logger: Logger,
  options: { progress?: boolean } = {},
): Promise<ModelEntry> {
  const registry = openModelRegistry(modelRegistryDir(dataDir));
  const dataset = datasetFromManifests([{ intents }], 'plugins');
  const dataHash = trainingDataHash(dataset, SKILLS_TRAIN_OPTIONS);

  const current = await registry.current();
  if (current?.metadata.dataHash === dataHash) return current;
  const published = (await registry.list()).find((entry) => entry.metadata.dataHash === dataHash);
  if (published) {
    await registry.activate(published.metadata.version);
    logger.info(
      { version: published.metadata.version },
      'intent model: switched to the version for these plugins',
    );
    return published;
  }

  logger.info(
    { examples: dataset.train.length, intents: dataset.labels.length },
    'intent model: training on the plugins\u2019 examples',
  );
  const built = await buildModel(dataset, {
    ...SKILLS_TRAIN_OPTIONS,
    ...(options.progress ? { onProgress: createProgressBar().onProgress } : {}),
  });
  const entry = await registry.publish(built.toPublish);
  await registry.activate(entry.metadata.version);
  logger.info(
    { version: entry.metadata.version, metrics: entry.metadata.metrics, sizes: entry.metadata.sizes },
    `intent model ${entry.metadata.version} trained and activated`,
  );
  return entry;
}
