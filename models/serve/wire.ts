/** Conversion between the inference domain types and the generated `parley.v1` messages, in one place. */
import type { nlu } from '../../proto/index.js';
import type { Prediction, ServedModel } from './types.js';

export function predictionToWire(prediction: Prediction): nlu.Prediction {
  return {
    intent: prediction.intent ?? '',
    confidence: prediction.confidence,
    top: prediction.top.map((score) => ({ intent: score.intent, probability: score.probability })),
  };
}

export function predictionFromWire(wire: nlu.Prediction | undefined): Prediction {
  if (!wire) return { intent: undefined, confidence: 0, top: [] };
  return {
    intent: wire.intent === '' ? undefined : wire.intent,
    confidence: wire.confidence,
    top: wire.top.map((score) => ({ intent: score.intent, probability: score.probability })),
  };
}

export function modelToWire(model: ServedModel): nlu.ModelInfo {
  return {
    version: model.version,
    precision: model.precision,
    labels: [...model.labels],
    threshold: model.threshold,
    createdAt: model.createdAt,
    servingSince: model.servingSince,
  };
}

export function modelFromWire(wire: nlu.ModelInfo | undefined): ServedModel {
  if (!wire || wire.version === '') throw new TypeError('the server sent no model');
  return {
    version: wire.version,
    precision: wire.precision === 'fp32' ? 'fp32' : 'int8',
    labels: wire.labels,
    threshold: wire.threshold,
    createdAt: wire.createdAt ?? new Date(0),
    servingSince: wire.servingSince ?? new Date(0),
  };
}
