/**
 * The plugin system: manifests, the loader and the plugin host. The composition root loads a directory,
 * hands the plugins to a host, and builds the classifiers from `host.intents()`.
 */
export { loadPlugins } from './loader.js';
export type { LoadPluginsOptions, LoadPluginsResult } from './loader.js';
export { createPluginHost } from './host.js';
export type { PluginHost } from './host.js';
export type { PluginHostOptions } from './host-options.js';
export type { IntentDeclaration, SlotDeclaration } from './intent-declarations.js';
export type { LoadedPlugin, PluginLoadFailure } from './plugin.js';
export { manifestSchema, PluginPermissions, ConfigTypes } from './manifest.js';
export type {
  ConfigEntry,
  ConfigType,
  IntentManifest,
  PluginManifest,
  PluginPermission,
} from './manifest.js';
export { parseManifest, readManifest } from './manifest-file.js';
export {
  PluginConfigError,
  PluginDirectoryError,
  PluginError,
  PluginErrorCode,
  PluginHostOptionsError,
  PluginLoadError,
  PluginManifestError,
  PluginPermissionError,
  PluginSystemError,
  PluginTimeoutError,
  UnknownIntentError,
} from './errors.js';
export type { ManifestIssue, PluginLoadErrorCode } from './errors.js';
export { storeBackedStorage } from './store-storage.js';
