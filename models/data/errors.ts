/** Errors of the dataset loaders. */

export const DatasetErrorCode = {
  /** The file or directory cannot be read (missing, a permission problem). */
  Unreadable: 'DATASET_UNREADABLE',
  /** Neither the extension nor the content says which format the file is in. */
  UnknownFormat: 'DATASET_UNKNOWN_FORMAT',
  /** The file is not well-formed JSON, YAML or CSV (e.g. an unterminated quote). */
  Syntax: 'DATASET_SYNTAX',
  /** A CSV header does not name a text or a label column. */
  MissingColumn: 'DATASET_MISSING_COLUMN',
  /** A CSV record has more or fewer fields than the header. */
  FieldCount: 'DATASET_FIELD_COUNT',
  /** An example's text or label is empty. */
  EmptyField: 'DATASET_EMPTY_FIELD',
  /** Well-formed, but not the shape the format requires (e.g. a CLINC150 pair not `[text, label]`). */
  InvalidStructure: 'DATASET_INVALID_STRUCTURE',
  /** The file holds no examples at all. */
  Empty: 'DATASET_EMPTY',
} as const;
export type DatasetErrorCode = (typeof DatasetErrorCode)[keyof typeof DatasetErrorCode];

/** Where and why a dataset could not be loaded. */
export interface DatasetErrorDetails {
  readonly code: DatasetErrorCode;
  /** The file (or directory) at fault, as the caller named it. */
  readonly file: string;
  /** 1-based line, when the fault has one. */
  readonly line?: number | undefined;
  /** 1-based column, when known (JSON and YAML syntax errors). */
  readonly column?: number | undefined;
  /** What is wrong and, where it helps, what to do; no file or line in it. */
  readonly reason: string;
}

/**
 * A dataset file that cannot be used. The message reads `<file>:<line>: <reason>` (`<file>:<line>:<column>:`
 * when the column is known, `<file>: <reason>` when the fault has no line), so editors and terminals can
 * jump to it.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code: DatasetErrorCode;
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly reason: string;

  constructor(details: DatasetErrorDetails, options?: ErrorOptions) {
    const where = [details.file, details.line, details.line === undefined ? undefined : details.column]
      .filter((part) => part !== undefined)
      .join(':');
    super(`${where}: ${details.reason}`, options);
    this.code = details.code;
    this.file = details.file;
    this.line = details.line;
    this.column = details.column;
    this.reason = details.reason;
  }
}
