/**
 * ONNX: export of a trained intent model (FP32, or INT8 with integer operators), its metadata, and
 * inference in onnxruntime-node.
 *
 * @example
 * ```ts
 * const bytes = exportOnnx(model, { precision: 'int8' });
 * const session = await createOnnxSession(bytes);
 * const [probabilities] = await runOnnx(session, [featurize('hello', model.features)]);
 * ```
 */
export { exportOnnx, IR_VERSION, ONNX_GRAPH_REVISION, OnnxIo, OPSET_VERSION } from './export-onnx.js';
export { compileExportOptions } from './export-options.js';
export type { CompiledExportOptions, OnnxExportOptions } from './export-options.js';
export { MetadataKey, ONNX_EXPORT_FORMAT, readOnnxMetadata } from './metadata.js';
export type { OnnxModelMetadata, OnnxPrecision } from './metadata.js';
export { createOnnxSession, packBatch, runOnnx, runPacked } from './session.js';
export type { OnnxSession, OnnxSessionOptions, PackedBatch } from './session.js';
export { OnnxErrorCode, OnnxModelError, OnnxRuntimeError } from './errors.js';
