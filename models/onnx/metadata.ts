/**
 * What an exported ONNX file says about itself in `metadata_props`, so a server can load it without the
 * TypeScript model file: labels, feature options, threshold, out-of-scope label, precision and version.
 */
import { type CompiledFeatureOptions, compileFeatureOptions } from '../features/index.js';
import { onnx } from '../../proto/index.js';
import { OnnxModelError } from './errors.js';

/** The keys of the metadata entries Parley writes. */
export const MetadataKey = {
  Format: 'parley.format',
  Labels: 'parley.labels',
  Features: 'parley.features',
  Threshold: 'parley.threshold',
  OutOfScopeLabel: 'parley.out_of_scope_label',
  Precision: 'parley.precision',
  ModelVersion: 'parley.model_version',
} as const;

/** The value of {@link MetadataKey.Format} for the graphs this version writes (inputs `ids`, `weights`). */
export const ONNX_EXPORT_FORMAT = 'parley-intent-onnx/1';

export type OnnxPrecision = 'fp32' | 'int8';

export interface OnnxModelMetadata {
  readonly format: string;
  readonly labels: readonly string[];
  readonly features: CompiledFeatureOptions;
  readonly threshold: number;
  /** The explicit out-of-scope class, if the model has one. */
  readonly outOfScopeLabel: string | undefined;
  readonly precision: OnnxPrecision;
  /** The version the exporter was given (`OnnxExportOptions.modelVersion`). */
  readonly modelVersion: string;
}

/** The metadata entries for a model, in a fixed order. */
export function metadataEntries(metadata: OnnxModelMetadata): onnx.StringStringEntryProto[] {
  const entries: [string, string][] = [
    [MetadataKey.Format, metadata.format],
    [MetadataKey.Labels, JSON.stringify(metadata.labels)],
    [
      MetadataKey.Features,
      JSON.stringify({
        buckets: metadata.features.buckets,
        wordNgrams: metadata.features.wordNgrams,
        charNgrams: metadata.features.charNgrams,
        version: metadata.features.version,
      }),
    ],
    [MetadataKey.Threshold, String(metadata.threshold)],
    [MetadataKey.OutOfScopeLabel, metadata.outOfScopeLabel ?? ''],
    [MetadataKey.Precision, metadata.precision],
    [MetadataKey.ModelVersion, metadata.modelVersion],
  ];
  return entries.map(([key, value]) => onnx.StringStringEntryProto.fromPartial({ key, value }));
}

/**
 * Reads Parley's metadata back from an exported ONNX file.
 *
 * @throws {OnnxModelError} when the file is not a Parley intent model export.
 */
export function readOnnxMetadata(bytes: Uint8Array): OnnxModelMetadata {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxModelError('the bytes are not an ONNX model', { cause: error });
  }
  const entries = new Map(model.metadataProps.map((entry) => [entry.key ?? '', entry.value ?? '']));
  const get = (key: string): string => {
    const value = entries.get(key);
    if (value === undefined)
      throw new OnnxModelError(`metadata '${key}' is missing; export the model with Parley`);
    return value;
  };
  try {
    const labels: unknown = JSON.parse(get(MetadataKey.Labels));
    const features = JSON.parse(get(MetadataKey.Features)) as {
      buckets: number;
      wordNgrams: number;
      charNgrams: [number, number];
      version: number;
    };
    const precision = get(MetadataKey.Precision);
    if (!Array.isArray(labels) || !labels.every((label) => typeof label === 'string')) {
      throw new OnnxModelError('metadata labels are not a list of strings');
    }
    if (precision !== 'fp32' && precision !== 'int8')
      throw new OnnxModelError(`unknown precision '${precision}'`);
    const compiled = compileFeatureOptions(features);
    if (compiled.version !== features.version) {
      throw new OnnxModelError(
        `feature scheme ${features.version} is not this Parley's ${compiled.version}; retrain`,
      );
    }
    const outOfScope = get(MetadataKey.OutOfScopeLabel);
    return {
      format: get(MetadataKey.Format),
      labels,
      features: compiled,
      threshold: Number(get(MetadataKey.Threshold)),
      outOfScopeLabel: outOfScope === '' ? undefined : outOfScope,
      precision,
      modelVersion: get(MetadataKey.ModelVersion),
    };
  } catch (error) {
    if (error instanceof OnnxModelError) throw error;
    throw new OnnxModelError('metadata is malformed', { cause: error });
  }
}
