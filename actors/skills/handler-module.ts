/** Finding, importing and checking a plugin's handler module. */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IntentHandler, SkillHandlers } from '../../plugins/sdk.js';
import { PluginErrorCode, PluginLoadError } from './errors.js';
import type { PluginManifest } from './manifest.js';

/** Handler file names, in the order they are looked for. */
export const HandlerFiles = ['handler.ts', 'handler.js'] as const;

/** The handler file in `dir`, or `undefined` when there is none. */
export async function findHandlerFile(dir: string): Promise<string | undefined> {
  for (const file of HandlerFiles) {
    const path = join(dir, file);
    try {
      await access(path);
      return path;
    } catch {
      // Not this one; try the next name.
    }
  }
  return undefined;
}

let importGeneration = 0;

/** Longest a handler module may take to import (top-level await included) before it is skipped. */
export const HANDLER_IMPORT_TIMEOUT_MS = 10_000;

/**
 * Imports a handler module and checks that its default export has a function for each intent of the
 * manifest and nothing else.
 *
 * @param fresh bypass the module cache (hot reload: a changed file must be imported again).
 * @throws {PluginLoadError} `PLUGIN_HANDLER_IMPORT_FAILED` or `PLUGIN_HANDLER_INVALID`.
 */
export async function importHandlers(
  path: string,
  manifest: PluginManifest,
  fresh: boolean,
  importTimeoutMs = HANDLER_IMPORT_TIMEOUT_MS,
): Promise<SkillHandlers> {
  const url = pathToFileURL(path);
  if (fresh) url.search = `v=${Date.now()}-${(importGeneration += 1)}`;
  let module: { default?: unknown };
  try {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `it did not finish within ${importTimeoutMs} ms (a top-level await that never settles?)`,
            ),
          ),
        importTimeoutMs,
      );
    });
    try {
      module = (await Promise.race([import(url.href), hung])) as { default?: unknown };
    } finally {
      clearTimeout(timer);
    }
  } catch (cause) {
    throw new PluginLoadError(
      PluginErrorCode.HandlerImportFailed,
      manifest.name,
      path,
      `importing the handler threw: ${cause instanceof Error ? cause.message : String(cause)}${moduleHint(cause)}`,
      { cause },
    );
  }

  const invalid = (reason: string): PluginLoadError =>
    new PluginLoadError(PluginErrorCode.HandlerInvalid, manifest.name, path, reason);
  const exported = module.default;
  if (typeof exported !== 'object' || exported === null || Array.isArray(exported)) {
    throw invalid(
      'the handler module must `export default defineSkill({ ... })` with one function per intent',
    );
  }
  const handlers = exported as Record<string, unknown>;
  const declared = manifest.intents.map((intent) => intent.name);
  const missing = declared.filter((intent) => typeof handlers[intent] !== 'function');
  if (missing.length > 0) {
    throw invalid(
      `no handler function for declared intent(s) ${missing.map((name) => `'${name}'`).join(', ')}`,
    );
  }
  const undeclared = Object.keys(handlers).filter((key) => !declared.includes(key));
  if (undeclared.length > 0) {
    throw invalid(
      `handler(s) for ${undeclared.map((name) => `'${name}'`).join(', ')} not declared in manifest.json; declare or remove them`,
    );
  }
  return Object.freeze(
    Object.fromEntries(declared.map((intent) => [intent, handlers[intent] as IntentHandler])),
  ) as SkillHandlers;
}

/** Handlers are ES modules; outside a folder marked as such they load as CommonJS and fail obscurely. */
function moduleHint(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return /"cjs" output format|require\(\) of ES Module|ERR_REQUIRE_ESM|Cannot use import statement/.test(
    message,
  )
    ? ' (handlers are ES modules: put a package.json with {"type": "module"} in the plugins folder)'
    : '';
}
