/** Options of ONNX export, compiled once by {@link compileExportOptions}. */
import type { OnnxPrecision } from './metadata.js';
import type { QuantizedMax } from './quantize.js';

export interface OnnxExportOptions {
  /** `fp32`, or `int8`: int8 embedding table and integer dense layers (see `export-onnx.ts`). @default 'fp32' */
  precision?: OnnxPrecision;
  /** The version stored in the file (`model_version` when it is an integer, and metadata), e.g. the registry's. @default '1' */
  modelVersion?: string;
  /**
   * INT8 only: quantize the dense weights to 7 bits ([-63, 63]) so x86 CPUs without VNNI cannot saturate
   * in ONNX Runtime's uint8 × int8 kernels; the embedding table always uses the full [-127, 127].
   * @default true
   */
  reduceRange?: boolean;
}

export interface CompiledExportOptions {
  readonly precision: OnnxPrecision;
  readonly modelVersion: string;
  readonly denseQuantizedMax: QuantizedMax;
}

export function compileExportOptions(options: OnnxExportOptions = {}): CompiledExportOptions {
  const precision = options.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'int8') {
    throw new RangeError(`precision must be 'fp32' or 'int8', got '${String(precision)}'`);
  }
  const modelVersion = options.modelVersion ?? '1';
  if (modelVersion.length === 0) throw new RangeError('modelVersion must not be empty');
  return { precision, modelVersion, denseQuantizedMax: (options.reduceRange ?? true) ? 63 : 127 };
}
