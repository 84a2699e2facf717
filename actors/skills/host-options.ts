/** Options of the plugin host, and their compiled form. */
import type { PluginStorage } from '../../plugins/sdk.js';
import { PluginHostOptionsError } from './errors.js';
import type { LoadedPlugin } from './plugin.js';

export interface PluginHostOptions {
  /** The plugins to serve, usually `loadPlugins(dir).plugins`. Their intents must be unique. */
  readonly plugins: readonly LoadedPlugin[];
  /**
   * The storage of one plugin for one user (the store's plugin-data repository). Called only for plugins
   * whose manifest asks for the `storage` permission; the others get a storage that rejects.
   */
  storageFor(plugin: string, userId: string): PluginStorage;
  /** The clock handed to skills. @default () => new Date() */
  readonly now?: () => Date;
  /** How long one handler call may take before it fails with `PluginTimeoutError`. @default 5000 */
  readonly callTimeoutMs?: number;
  /**
   * Configuration by plugin name, overriding the defaults of each manifest's `config`; checked against the
   * declared types. @default {}
   */
  readonly config?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** {@link PluginHostOptions} with defaults applied and values checked. */
export interface CompiledPluginHostOptions {
  readonly plugins: readonly LoadedPlugin[];
  readonly storageFor: (plugin: string, userId: string) => PluginStorage;
  readonly now: () => Date;
  readonly callTimeoutMs: number;
  readonly config: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** @throws {PluginHostOptionsError} listing every invalid option. */
export function compilePluginHostOptions(options: PluginHostOptions): CompiledPluginHostOptions {
  const callTimeoutMs = options.callTimeoutMs ?? 5000;
  const issues: string[] = [];
  if (!Number.isFinite(callTimeoutMs) || callTimeoutMs <= 0) {
    issues.push(`callTimeoutMs must be a positive number of milliseconds (got ${callTimeoutMs})`);
  }
  if (typeof options.storageFor !== 'function') issues.push('storageFor must be a function');
  if (issues.length > 0) throw new PluginHostOptionsError(issues);
  return {
    plugins: options.plugins,
    storageFor: options.storageFor.bind(options),
    now: options.now ?? (() => new Date()),
    callTimeoutMs,
    config: options.config ?? {},
  };
}
