/**
 * One entry point for every dataset format; the format is told by the file's extension and content.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { clinc150Dataset, isClinc150 } from './clinc150.js';
import { csvDataset } from './csv.js';
import type { Dataset } from './dataset.js';
import { DatasetError, DatasetErrorCode } from './errors.js';
import { parseJson } from './json.js';
import { isParley, parleyDataset, parleyDirectoryDataset, unreadable } from './parley.js';
import { rasaDataset } from './rasa.js';

/** How each format is recognised, for the "unknown format" message. */
export const KNOWN_FORMATS = [
  'Parley JSON ({"intents": [{"name", "examples"}]}, a plugin manifest.json, or a plugins folder)',
  'CSV (.csv with a header naming text and label/intent/category columns)',
  'Rasa NLU YAML (.yml/.yaml with an nlu: section)',
  'CLINC150 JSON ({"train": [[text, label], ...], "val": ..., "test": ...})',
] as const;

/**
 * Loads a dataset from a file or a folder of plugins.
 *
 * - a folder: Parley (its `manifest.json`, or its sub-folders' `<plugin>/manifest.json`);
 * - `.json`: Parley when it has `intents`, CLINC150 when it has `train`/`val`/`test` lists;
 * - `.csv`: CSV; `.yml`/`.yaml`: Rasa NLU;
 * - any other name: told by the content (`{` JSON, `nlu:` Rasa, a `text,...` header CSV).
 *
 * @throws {DatasetError} with the file, the line when there is one, and the reason.
 * @example
 * ```ts
 * const { train, validation, labels } = await loadDataset('../shared/datasets/clinc150/data_full.json');
 * ```
 */
export async function loadDataset(path: string): Promise<Dataset> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (cause) {
    throw unreadable(path, cause);
  }
  if (isDirectory) return parleyDirectoryDataset(path);

  let text: string;
  try {
    text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  } catch (cause) {
    throw unreadable(path, cause);
  }
  switch (extname(path).toLowerCase()) {
    case '.json':
      return jsonDataset(path, text);
    case '.csv':
      return csvDataset(path, text);
    case '.yml':
    case '.yaml':
      return rasaDataset(path, text);
    default:
      return sniffedDataset(path, text);
  }
}

function jsonDataset(file: string, text: string): Dataset {
  const value = parseJson(file, text);
  if (isParley(value)) return parleyDataset(file, text, value);
  if (isClinc150(value)) return clinc150Dataset(file, text, value);
  throw unknownFormat(
    file,
    'a JSON file with neither "intents" (Parley) nor "train"/"val"/"test" lists (CLINC150)',
  );
}

function sniffedDataset(file: string, text: string): Dataset {
  const start = text.trimStart();
  if (start.startsWith('{')) return jsonDataset(file, text);
  if (/^nlu\s*:/mu.test(text)) return rasaDataset(file, text);
  const header = start.slice(0, start.search(/\r?\n|$/u)).toLowerCase();
  if (/(?:^|,)\s*"?text"?\s*(?:,|$)/u.test(header) && header.includes(',')) return csvDataset(file, text);
  const extension = extname(file);
  const named = extension === '' ? 'the file has no extension' : `the extension ${extension} is not known`;
  throw unknownFormat(file, `${named} and the content matches no format`);
}

function unknownFormat(file: string, what: string): DatasetError {
  return new DatasetError({
    code: DatasetErrorCode.UnknownFormat,
    file,
    reason: `unknown dataset format: ${what}; known formats: ${KNOWN_FORMATS.join('; ')}`,
  });
}
