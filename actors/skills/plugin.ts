/** What the loader produces: plugins ready to run, and the ones it had to skip. */
import type { SkillHandlers } from '../../plugins/sdk.js';
import type { PluginLoadError } from './errors.js';
import type { PluginManifest } from './manifest.js';

/** A plugin whose manifest is valid and whose handler module exports a handler for every intent. */
export interface LoadedPlugin {
  /** The manifest's `name`, equal to the folder name. */
  readonly name: string;
  /** Absolute path of the plugin's folder. */
  readonly dir: string;
  readonly manifest: PluginManifest;
  /** The handler module's default export, one function per declared intent. */
  readonly handlers: SkillHandlers;
}

/** A plugin the loader skipped, and why. */
export interface PluginLoadFailure {
  /** The plugin's folder name. */
  readonly plugin: string;
  /** The file at fault: the manifest or the handler (or where it was expected). */
  readonly path: string;
  /** What is wrong and what to do, e.g. `manifest.json is invalid: intents[0].examples: give at least one example`. */
  readonly reason: string;
  /** The same, as an error with a `code` and the underlying `cause`. */
  readonly error: PluginLoadError;
}
