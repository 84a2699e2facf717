/**
 * Parley's own format: intents with examples, as plugin manifests declare them. Read from a JSON file
 * `{ "intents": [{ "name": "...", "examples": ["..."] }] }`, a plugin's `manifest.json`, a plugin folder, or
 * a folder of plugin folders (`plugins/`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Dataset, Example } from './dataset.js';
import { compareCodeUnits, makeDataset } from './dataset.js';
import { DatasetError, DatasetErrorCode } from './errors.js';
import type { JsonPathKey } from './json.js';
import { formatJsonPath, jsonLineOf, parseJson } from './json.js';

/** The file a plugin folder declares itself in. */
export const MANIFEST_FILE = 'manifest.json';

const PARLEY_SHAPE = '{ "intents": [{ "name": "...", "examples": ["..."] }] }';

/** What a source of intents must provide; a plugin manifest has this shape (and more). */
export interface IntentExamples {
  readonly intents: ReadonlyArray<{ readonly name: string; readonly examples: readonly string[] }>;
}

// Only the fields training needs: the plugin host validates manifests in full before loading a plugin.
const intentsSchema = z.object({
  intents: z.array(z.object({ name: z.string(), examples: z.array(z.string()) })),
});

/** Whether a parsed JSON value has an `intents` list (a Parley intents file or a plugin manifest). */
export function isParley(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'intents' in value;
}

/**
 * The dataset of intents given in memory, e.g. the manifests the plugin host has loaded. Every example is a
 * training example labelled with its intent's name; `source` names where they came from in errors.
 *
 * @example
 * ```ts
 * const dataset = datasetFromManifests(host.manifests());
 * ```
 */
export function datasetFromManifests(manifests: readonly IntentExamples[], source = '(manifests)'): Dataset {
  return makeDataset('parley', source, {
    train: manifests.flatMap((manifest) => intentsExamples(source, manifest)),
  });
}

/** Reads a Parley JSON file's text (an intents file or a plugin manifest). */
export function parleyDataset(file: string, text: string, value?: unknown): Dataset {
  return makeDataset('parley', file, { train: readManifest(file, text, value ?? parseJson(file, text)) });
}

/**
 * Gathers the examples of a plugin folder (one holding `manifest.json`) or of a folder of plugin folders,
 * visited in name order; sub-folders without a manifest are skipped.
 */
export async function parleyDirectoryDataset(directory: string): Promise<Dataset> {
  const own = join(directory, MANIFEST_FILE);
  const entries = await readdir(directory, { withFileTypes: true });
  const manifests = entries.some((entry) => entry.isFile() && entry.name === MANIFEST_FILE)
    ? [own]
    : entries
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort(compareCodeUnits)
        .map((name) => join(directory, name, MANIFEST_FILE));
  const train: Example[] = [];
  let found = 0;
  for (const file of manifests) {
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw unreadable(file, cause);
    }
    found += 1;
    train.push(...readManifest(file, text, parseJson(file, text)));
  }
  if (found === 0) {
    throw new DatasetError({
      code: DatasetErrorCode.UnknownFormat,
      file: directory,
      reason: `no plugin manifests: expected ${MANIFEST_FILE} in this folder or in its sub-folders (<plugin>/${MANIFEST_FILE})`,
    });
  }
  return makeDataset('parley', directory, { train });
}

/** A read failure as a dataset error. */
export function unreadable(file: string, cause: unknown): DatasetError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new DatasetError(
    { code: DatasetErrorCode.Unreadable, file, reason: `cannot read: ${reason}` },
    { cause },
  );
}

function readManifest(file: string, text: string, value: unknown): Example[] {
  const parsed = intentsSchema.safeParse(value);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const path = (issue?.path ?? []).filter((key): key is JsonPathKey => typeof key !== 'symbol');
    const where = path.length === 0 ? '' : `${formatJsonPath(path)}: `;
    throw new DatasetError({
      code: DatasetErrorCode.InvalidStructure,
      file,
      line: jsonLineOf(text, path),
      reason: `${where}${issue?.message ?? 'invalid'}; expected ${PARLEY_SHAPE}`,
    });
  }
  return intentsExamples(file, parsed.data, text);
}

function intentsExamples(file: string, source: IntentExamples, text?: string): Example[] {
  const examples: Example[] = [];
  source.intents.forEach((intent, index) => {
    const fail = (path: JsonPathKey[], reason: string): never => {
      throw new DatasetError({
        code: DatasetErrorCode.EmptyField,
        file,
        line: text === undefined ? undefined : jsonLineOf(text, path),
        reason: `${formatJsonPath(path)}: ${reason}`,
      });
    };
    const label = intent.name.trim();
    if (label === '') fail(['intents', index, 'name'], 'empty intent name');
    intent.examples.forEach((example, exampleIndex) => {
      const exampleText = example.trim();
      if (exampleText === '') {
        fail(['intents', index, 'examples', exampleIndex], `empty example of '${label}'`);
      }
      examples.push({ text: exampleText, label });
    });
  });
  return examples;
}
