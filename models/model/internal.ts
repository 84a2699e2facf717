/** Internals the tests (and benchmarks) reach for; not part of the public face in `index.ts`. */
export { calibrateThreshold } from './calibration.js';
export type { CalibrationSettings, HeldOutPredictions } from './calibration.js';
export { encodeExamples } from './encoded.js';
export type { EncodedExamples } from './encoded.js';
export { evaluate, fitNetwork } from './fit.js';
export type { FitResult, FitSettings } from './fit.js';
export { createForwardScratch, forwardInto, initialiseWeights, weightSizes } from './network.js';
export { createPrng, shuffleInPlace } from './prng.js';
export type { Prng } from './prng.js';
