/**
 * The inference service: the intent model served with dynamic batching on a pool of ONNX Runtime worker
 * threads, in-process (`createInferenceEngine`, the embedded `all` role) or over gRPC
 * (`startInferenceServer`, `parley serve inference`), and the client conversation actors use
 * (`createInferenceClient`, with coalescing and a version-aware cache).
 */
export { createBatcher } from './batcher.js';
export type { Batcher, BatcherOptions, BatcherStats, SubmitOptions } from './batcher.js';
export { createPredictionCache, cacheKey } from './cache.js';
export type { CacheStats, PredictionCache, PredictionCacheOptions } from './cache.js';
export { classificationOf, engineClassifier } from './classification.js';
export { createInferenceClient } from './client.js';
export type {
  CoalesceOptions,
  InferenceClient,
  InferenceClientOptions,
  InferenceClientStats,
} from './client.js';
export { createInferenceEngine } from './engine.js';
export type { EngineStats, InferenceEngine, InferenceEngineOptions } from './engine.js';
export { GrpcStatus, InferenceError, InferenceErrorCode } from './errors.js';
export { startInferenceServer } from './server.js';
export type { InferenceServer, InferenceServerLogger, InferenceServerOptions } from './server.js';
export { channelCredentials, readTlsFiles, serverCredentials } from './tls.js';
export type { ClientTls, ServerTls, TlsPaths } from './tls.js';
export { MAX_TOP_K } from './types.js';
export type { IntentScore, Prediction, PredictOptions, ServedModel, VersionedPrediction } from './types.js';
