/** Reading and validating one plugin's `manifest.json`, with errors that point at the line or the key. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { PluginErrorCode, PluginLoadError, PluginManifestError } from './errors.js';
import type { ManifestIssue } from './errors.js';
import { manifestSchema } from './manifest.js';
import type { PluginManifest } from './manifest.js';

/**
 * Reads, parses and validates a manifest; its `name` must equal `folder`.
 *
 * @throws {PluginLoadError} code `PLUGIN_MANIFEST_MISSING` when the file cannot be read.
 * @throws {PluginManifestError} code `PLUGIN_MANIFEST_SYNTAX` (with line and column) or
 *   `PLUGIN_MANIFEST_INVALID` (with the JSON path of each issue).
 */
export async function readManifest(path: string, folder: string): Promise<PluginManifest> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (cause) {
    throw new PluginLoadError(
      PluginErrorCode.ManifestMissing,
      folder,
      path,
      'no readable manifest.json; every plugin folder needs one (folders starting with "." or "_" are ignored)',
      { cause },
    );
  }
  return parseManifest(source, path, folder);
}

/** {@link readManifest} for a manifest already in memory. */
export function parseManifest(source: string, path: string, folder: string): PluginManifest {
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const position = jsonErrorPosition(message, source);
    const where = position ? ` at line ${position.line}, column ${position.column}` : '';
    const detail = message
      .replace(/\s*(in JSON )?at position \d+.*$/, '')
      .replace(/\s*\(line \d+ column \d+\)$/, '');
    throw new PluginManifestError(
      PluginErrorCode.ManifestSyntax,
      folder,
      path,
      `manifest.json is not valid JSON${where}: ${detail}`,
      [],
      position,
      { cause },
    );
  }

  const parsed = manifestSchema.safeParse(json);
  const issues: ManifestIssue[] = parsed.success ? [] : parsed.error.issues.map(toManifestIssue);
  if (parsed.success && parsed.data.name !== folder) {
    issues.push({
      path: 'name',
      message: `must equal the folder name '${folder}' (is '${parsed.data.name}')`,
    });
  }
  if (!parsed.success || issues.length > 0) {
    throw new PluginManifestError(
      PluginErrorCode.ManifestInvalid,
      folder,
      path,
      `manifest.json is invalid: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      issues,
      undefined,
      parsed.success ? undefined : { cause: parsed.error },
    );
  }
  return parsed.data;
}

function toManifestIssue(issue: z.core.$ZodIssue): ManifestIssue {
  return { path: formatPath(issue.path), message: issue.message };
}

/** `['intents', 0, 'patterns', 1]` -> `intents[0].patterns[1]`. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

// V8 reports "... at position N" (Node 20) and adds "(line L column C)" (Node 22+).
function jsonErrorPosition(message: string, source: string): { line: number; column: number } | undefined {
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const offset = /at position (\d+)/.exec(message);
  if (offset) {
    const before = source.slice(0, Number(offset[1]));
    const lines = before.split('\n');
    return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
  }
  // "Unexpected end of JSON input" has no position: the end of the text is where it went wrong.
  if (/end of JSON input/.test(message)) {
    const lines = source.split('\n');
    return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
  }
  return undefined;
}
