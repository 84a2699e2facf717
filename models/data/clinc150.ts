/**
 * CLINC150 (Larson et al., EMNLP 2019): one JSON object whose keys are splits, each a list of
 * `[text, label]` pairs; the `oos_*` splits hold out-of-scope examples labelled {@link OUT_OF_SCOPE}.
 * Any of the published variants (`data_full.json`, `data_small.json`, `data_imbalanced.json`,
 * `data_oos_plus.json`) reads the same way.
 */
import type { Dataset, Example } from './dataset.js';
import { makeDataset } from './dataset.js';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { formatJsonPath, jsonLineOf } from './json.js';

/** Which of the file's splits make up each of ours. */
export const CLINC150_SPLITS = {
  train: ['train', 'oos_train'],
  validation: ['val', 'oos_val'],
  test: ['test', 'oos_test'],
} as const;

const KEYS = Object.values(CLINC150_SPLITS).flat();

/** Whether a parsed JSON value looks like CLINC150: an object with one of its split keys holding a list. */
export function isClinc150(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    KEYS.some((key) => Array.isArray((value as Record<string, unknown>)[key]))
  );
}

/**
 * Builds the dataset from the parsed file; `text` is the file's text, read again only to put a line on an
 * error.
 */
export function clinc150Dataset(file: string, text: string, value: Record<string, unknown>): Dataset {
  const read = (keys: readonly string[]): Example[] | undefined => {
    if (keys.every((key) => value[key] === undefined)) return undefined;
    return keys.flatMap((key) => readSplit(file, text, key, value[key]));
  };
  return makeDataset('clinc150', file, {
    train: read(CLINC150_SPLITS.train) ?? [],
    validation: read(CLINC150_SPLITS.validation),
    test: read(CLINC150_SPLITS.test),
  });
}

function readSplit(file: string, text: string, key: string, split: unknown): Example[] {
  if (split === undefined) return [];
  const fail = (path: Array<string | number>, reason: string, code: DatasetErrorCode): never => {
    throw new DatasetError({
      code,
      file,
      line: jsonLineOf(text, path),
      reason: `${formatJsonPath(path)}: ${reason}`,
    });
  };
  if (!Array.isArray(split)) {
    return fail([key], 'must be a list of [text, label] pairs', DatasetErrorCode.InvalidStructure);
  }
  return split.map((pair: unknown, index): Example => {
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      typeof pair[0] !== 'string' ||
      typeof pair[1] !== 'string'
    ) {
      return fail(
        [key, index],
        `expected a [text, label] pair of strings, got ${JSON.stringify(pair)}`,
        DatasetErrorCode.InvalidStructure,
      );
    }
    const [exampleText, label] = pair as [string, string];
    if (exampleText.trim() === '') return fail([key, index, 0], 'empty text', DatasetErrorCode.EmptyField);
    if (label.trim() === '') return fail([key, index, 1], 'empty label', DatasetErrorCode.EmptyField);
    return { text: exampleText.trim(), label: label.trim() };
  });
}
