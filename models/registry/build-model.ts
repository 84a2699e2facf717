/**
 * The whole life of one model version: train on a dataset, export FP32 and INT8 ONNX, and hand the
 * files to the registry with their metadata.
 */
import { createHash } from 'node:crypto';
import type { Dataset, Example } from '../data/index.js';
import { serialiseModel, trainIntentModel, type TrainOptions, type TrainedModel } from '../model/index.js';
import { exportOnnx, ONNX_GRAPH_REVISION } from '../onnx/index.js';
import type { ModelToPublish } from './model-registry.js';

export interface BuiltModel {
  readonly trained: TrainedModel;
  readonly toPublish: ModelToPublish;
}

/**
 * Hash of everything a model depends on: the examples (order-independent), the training options
 * (callbacks aside) and the revision of the exported graphs. Same data and options, same hash; the registry names versions after it.
 */
export function trainingDataHash(
  dataset: Pick<Dataset, 'train' | 'validation'>,
  options: TrainOptions,
): string {
  const canonical = (examples: readonly Example[] = []): string[] =>
    examples.map((example) => `${example.label}\u0000${example.text}`).sort();
  const { onProgress: _onProgress, signal: _signal, ...settings } = options;
  return createHash('sha256')
    .update(
      JSON.stringify({
        train: canonical(dataset.train),
        validation: canonical(dataset.validation),
        settings,
        graph: ONNX_GRAPH_REVISION,
      }),
    )
    .digest('hex');
}

export async function buildModel(dataset: Dataset, options: TrainOptions = {}): Promise<BuiltModel> {
  const dataHash = trainingDataHash(dataset, options);
  const trained = await trainIntentModel({ train: dataset.train, validation: dataset.validation }, options);
  const modelVersion = dataHash.slice(0, 8);
  const metrics: Record<string, number> = {
    trainExamples: trained.metrics.trainExamples,
    validationExamples: trained.metrics.validationExamples,
    epochs: trained.metrics.epochs,
    trainAccuracy: trained.metrics.trainAccuracy,
    ...(trained.metrics.validationAccuracy === undefined
      ? {}
      : { validationAccuracy: trained.metrics.validationAccuracy }),
    ...(trained.metrics.durationMs === undefined ? {} : { trainingMs: trained.metrics.durationMs }),
  };
  return {
    trained,
    toPublish: {
      metadata: {
        labels: [...trained.labels],
        features: { ...trained.features, charNgrams: [...trained.features.charNgrams] },
        threshold: trained.threshold,
        ...(trained.outOfScopeLabel === undefined ? {} : { outOfScopeLabel: trained.outOfScopeLabel }),
        dataHash,
        source: dataset.source,
        metrics,
      },
      fp32: exportOnnx(trained, { precision: 'fp32', modelVersion }),
      int8: exportOnnx(trained, { precision: 'int8', modelVersion }),
      weights: serialiseModel(trained),
    },
  };
}
