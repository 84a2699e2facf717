/** Datasets: Parley's own intents, CSV, Rasa NLU YAML and CLINC150, loaded into one shape. */
export { OUT_OF_SCOPE } from './dataset.js';
export type { Dataset, DatasetFormat, Example } from './dataset.js';
export { loadDataset, KNOWN_FORMATS } from './load-dataset.js';
export { datasetFromManifests } from './parley.js';
export type { IntentExamples } from './parley.js';
export { splitDataset } from './split.js';
export type { Split, SplitOptions } from './split.js';
export { DatasetError, DatasetErrorCode } from './errors.js';
export type { DatasetErrorDetails } from './errors.js';
