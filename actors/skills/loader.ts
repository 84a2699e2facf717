/** Loading every plugin folder of a directory, skipping (and reporting) the broken ones. */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PluginDirectoryError, PluginErrorCode, PluginLoadError } from './errors.js';
import { findHandlerFile, HandlerFiles, importHandlers } from './handler-module.js';
import { readManifest } from './manifest-file.js';
import type { LoadedPlugin, PluginLoadFailure } from './plugin.js';

export interface LoadPluginsOptions {
  /**
   * Import handler modules afresh, bypassing the module cache, so that changed handler files take
   * effect (hot reload). Modules a handler imports itself are still cached.
   * @default false
   */
  readonly fresh?: boolean;
  /**
   * Plugins loaded before, e.g. from the built-in directory when loading an operator's own: their names
   * and intents are taken, so a plugin here that repeats one fails. Within one directory intents cannot
   * clash (each starts with its plugin's name, which is its folder's), so this is where duplicates arise.
   * @default []
   */
  readonly alreadyLoaded?: readonly LoadedPlugin[];
  /**
   * Longest a handler module may take to import; a plugin whose import hangs is reported and skipped.
   * @default 10000
   */
  readonly importTimeoutMs?: number;
}

export interface LoadPluginsResult {
  /** Plugins ready to run, in folder-name order. */
  readonly plugins: LoadedPlugin[];
  /** Plugins that were skipped, each with the file at fault and why. */
  readonly failures: PluginLoadFailure[];
}

/**
 * Loads every plugin in `dir`: each sub-folder (except those starting with `.` or `_`) with a
 * `manifest.json` and a `handler.ts` (or `handler.js`) whose default export comes from `defineSkill`.
 *
 * Folders are loaded one at a time, in name order. For each: the manifest is read and validated before any
 * of the plugin's code is imported; an intent (or plugin name) already taken by a plugin loaded earlier
 * (see {@link LoadPluginsOptions.alreadyLoaded}) makes this one fail; then the handler is imported and
 * checked against the manifest's intents. A broken plugin is
 * reported in `failures` and skipped; the others still load.
 *
 * @throws {PluginDirectoryError} when `dir` itself cannot be read.
 *
 * @example
 * ```ts
 * const { plugins, failures } = await loadPlugins('plugins');
 * for (const failure of failures) log.warn({ path: failure.path }, failure.reason);
 * const host = createPluginHost({ plugins, storageFor });
 * ```
 */
export async function loadPlugins(dir: string, options: LoadPluginsOptions = {}): Promise<LoadPluginsResult> {
  const root = resolve(dir);
  let folders: string[];
  try {
    const entries = await readdir(root, { withFileTypes: true });
    folders = entries
      .filter((entry) => entry.isDirectory() && !/^[._]/.test(entry.name) && entry.name !== 'node_modules')
      .map((entry) => entry.name)
      .sort();
  } catch (cause) {
    throw new PluginDirectoryError(root, { cause });
  }

  const plugins: LoadedPlugin[] = [];
  const failures: PluginLoadFailure[] = [];
  // Only plugins that loaded claim their intents: a broken plugin must not block a later good one.
  const claimed = new Map<string, string>();
  const names = new Set<string>();
  for (const plugin of options.alreadyLoaded ?? []) {
    names.add(plugin.name);
    for (const intent of plugin.manifest.intents) claimed.set(intent.name, plugin.name);
  }

  for (const folder of folders) {
    try {
      const plugin = await loadPlugin(join(root, folder), folder, claimed, names, options);
      plugins.push(plugin);
      names.add(plugin.name);
      for (const intent of plugin.manifest.intents) claimed.set(intent.name, plugin.name);
    } catch (error) {
      if (!(error instanceof PluginLoadError)) throw error;
      failures.push({ plugin: error.plugin, path: error.path, reason: error.reason, error });
    }
  }
  return { plugins, failures };
}

async function loadPlugin(
  dir: string,
  folder: string,
  claimed: ReadonlyMap<string, string>,
  names: ReadonlySet<string>,
  options: LoadPluginsOptions,
): Promise<LoadedPlugin> {
  const manifestPath = join(dir, 'manifest.json');
  const manifest = await readManifest(manifestPath, folder);

  const duplicates = manifest.intents.filter((intent) => claimed.has(intent.name));
  if (duplicates.length > 0) {
    throw new PluginLoadError(
      PluginErrorCode.DuplicateIntent,
      folder,
      manifestPath,
      duplicates
        .map(
          (intent) => `intent '${intent.name}' is already declared by plugin '${claimed.get(intent.name)}'`,
        )
        .join('; '),
    );
  }
  if (names.has(manifest.name)) {
    throw new PluginLoadError(
      PluginErrorCode.DuplicatePlugin,
      folder,
      manifestPath,
      `a plugin named '${manifest.name}' is already loaded; rename one of them`,
    );
  }

  const handlerPath = await findHandlerFile(dir);
  if (!handlerPath) {
    throw new PluginLoadError(
      PluginErrorCode.HandlerMissing,
      folder,
      join(dir, HandlerFiles[0]),
      `no ${HandlerFiles.join(' or ')}; add one that does \`export default defineSkill({ ... })\``,
    );
  }
  const handlers = await importHandlers(
    handlerPath,
    manifest,
    options.fresh ?? false,
    options.importTimeoutMs,
  );
  return { name: manifest.name, dir, manifest, handlers };
}
