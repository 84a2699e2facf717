/**
 * A labelled set of utterances, whatever file it came from: the input of training and evaluation.
 */
import { DatasetError, DatasetErrorCode } from './errors.js';

/** The label of out-of-scope examples (CLINC150's own label); never one of {@link Dataset.labels}. */
export const OUT_OF_SCOPE = 'oos';

/** One utterance and the intent it expresses ({@link OUT_OF_SCOPE} when it expresses none we handle). */
export interface Example {
  readonly text: string;
  readonly label: string;
}

/** The formats {@link loadDataset} reads. */
export type DatasetFormat = 'parley' | 'csv' | 'rasa' | 'clinc150';

export interface Dataset {
  /** Which format the file was read as. */
  readonly format: DatasetFormat;
  /** The file or directory it was read from, as the caller named it. */
  readonly source: string;
  readonly train: readonly Example[];
  /** Present when the file has its own validation split (CLINC150: `val` + `oos_val`). */
  readonly validation?: readonly Example[];
  /** Present when the file has its own test split (CLINC150: `test` + `oos_test`). */
  readonly test?: readonly Example[];
  /** The in-scope labels of every split: sorted by code unit, unique, never {@link OUT_OF_SCOPE}. */
  readonly labels: readonly string[];
}

/** Splits as a loader found them, before the labels are gathered. */
export interface DatasetSplits {
  readonly train: readonly Example[];
  readonly validation?: readonly Example[] | undefined;
  readonly test?: readonly Example[] | undefined;
}

/** Locale-independent ordering, so labels sort the same on every machine. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Assembles a {@link Dataset}: gathers the labels and refuses a dataset without a single example.
 */
export function makeDataset(format: DatasetFormat, source: string, splits: DatasetSplits): Dataset {
  const labels = new Set<string>();
  let size = 0;
  for (const split of [splits.train, splits.validation, splits.test]) {
    if (split === undefined) continue;
    size += split.length;
    for (const example of split) {
      if (example.label !== OUT_OF_SCOPE) labels.add(example.label);
    }
  }
  if (size === 0) {
    throw new DatasetError({
      code: DatasetErrorCode.Empty,
      file: source,
      reason: 'the dataset has no examples',
    });
  }
  return {
    format,
    source,
    train: splits.train,
    ...(splits.validation === undefined ? {} : { validation: splits.validation }),
    ...(splits.test === undefined ? {} : { test: splits.test }),
    labels: [...labels].sort(compareCodeUnits),
  };
}
