/** The plugin host: routes a matched intent to its plugin's handler, with capabilities and a time limit. */
import type { CatalogEntry, PluginStorage, SkillContext, SkillRequest } from '../../plugins/sdk.js';
import {
  PluginError,
  PluginErrorCode,
  PluginLoadError,
  PluginTimeoutError,
  UnknownIntentError,
} from './errors.js';
import { deniedStorage } from './denied-storage.js';
import { compilePluginHostOptions } from './host-options.js';
import type { PluginHostOptions } from './host-options.js';
import { buildCatalog, declareIntents } from './intent-declarations.js';
import type { IntentDeclaration } from './intent-declarations.js';
import { resolvePluginConfig } from './plugin-config.js';
import type { LoadedPlugin } from './plugin.js';

/**
 * Runs skills. Today handlers run in this thread (a handler stuck in a synchronous loop blocks it); the
 * contract is the same once each plugin moves into its own worker thread.
 */
export interface PluginHost {
  /**
   * Runs the handler of `request.intent` and returns its replies as texts.
   *
   * @throws {UnknownIntentError} when no loaded plugin declares the intent.
   * @throws {PluginError} when the handler throws, rejects or returns something that is not a `SkillResult`
   *   (the handler's error is the `cause`; using storage without the permission shows up here with a
   *   `PluginPermissionError` cause).
   * @throws {PluginTimeoutError} when the handler does not settle within `callTimeoutMs`; the context's
   *   `signal` is aborted.
   */
  invoke(request: SkillRequest): Promise<string[]>;
  /** Every intent of the loaded plugins, for the classifiers (`createRuleClassifier(host.intents())`). */
  intents(): readonly IntentDeclaration[];
  /** What `help` shows: each intent's description and first example. */
  readonly catalog: readonly CatalogEntry[];
  /** The loaded plugins, in load order. */
  plugins(): readonly LoadedPlugin[];
  /**
   * Swaps the whole plugin set (hot reload). Calls already running finish on the plugins they started
   * with; new calls use the new set.
   *
   * @throws {PluginLoadError} (`PLUGIN_DUPLICATE_INTENT`) or {@link PluginConfigError}; the old set stays.
   */
  replace(plugins: readonly LoadedPlugin[]): void;
}

interface Route {
  readonly plugin: LoadedPlugin;
  readonly config: Readonly<Record<string, unknown>>;
  readonly storage: boolean;
}

interface Installed {
  readonly plugins: readonly LoadedPlugin[];
  readonly routes: ReadonlyMap<string, Route>;
  /** Declared once per install: the dialog engine asks for them on every turn. */
  readonly intents: readonly IntentDeclaration[];
  readonly catalog: readonly CatalogEntry[];
}

/**
 * Creates a plugin host.
 *
 * @example
 * ```ts
 * const { plugins } = await loadPlugins('plugins');
 * const host = createPluginHost({ plugins, storageFor: (plugin, user) => store.pluginStorage(plugin, user) });
 * const replies = await host.invoke({ intent: 'time.in_city', text, entities: { city: 'Tokyo' }, user, conversationId, channel });
 * ```
 */
export function createPluginHost(options: PluginHostOptions): PluginHost {
  const compiled = compilePluginHostOptions(options);
  let installed = install(compiled.plugins, compiled.config);

  async function invoke(request: SkillRequest): Promise<string[]> {
    const { routes, catalog } = installed;
    const route = routes.get(request.intent);
    if (!route) throw new UnknownIntentError(request.intent);
    const { plugin } = route;
    const handler = plugin.handlers[request.intent];
    if (!handler) throw new UnknownIntentError(request.intent);

    // Why the call was abandoned (it timed out), once it was. The signal is made only for a handler that
    // reads it: an AbortSignal is an EventTarget, a few µs to make, and most handlers never look.
    const call: { abandoned?: Error; controller?: AbortController } = {};
    const storage = route.storage
      ? compiled.storageFor(plugin.name, request.user.id)
      : deniedStorage(plugin.name);
    const context: SkillContext = {
      storage: untilAbandoned(storage, call),
      now: () => compiled.now(),
      config: route.config,
      catalog,
      get signal() {
        if (call.controller === undefined) {
          call.controller = new AbortController();
          if (call.abandoned) call.controller.abort(call.abandoned);
        }
        return call.controller.signal;
      },
    };

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new PluginTimeoutError(plugin.name, request.intent, compiled.callTimeoutMs);
        call.abandoned = error;
        call.controller?.abort(error);
        reject(error);
      }, compiled.callTimeoutMs);
    });
    let result: unknown;
    try {
      // Through a promise so that a handler that throws synchronously is handled like one that rejects.
      result = await Promise.race([Promise.resolve().then(() => handler(request, context)), timeout]);
    } catch (cause) {
      if (cause instanceof PluginTimeoutError) throw cause;
      throw new PluginError(PluginErrorCode.HandlerFailed, plugin.name, request.intent, { cause });
    } finally {
      clearTimeout(timer);
    }
    return toTexts(result, plugin.name, request.intent);
  }

  return {
    invoke,
    intents: () => installed.intents,
    get catalog() {
      return installed.catalog;
    },
    plugins: () => installed.plugins,
    replace(plugins) {
      installed = install(plugins, compiled.config);
    },
  };
}

function install(
  plugins: readonly LoadedPlugin[],
  config: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): Installed {
  const routes = new Map<string, Route>();
  for (const plugin of plugins) {
    const route: Route = {
      plugin,
      config: resolvePluginConfig(plugin.manifest, config[plugin.name]),
      storage: plugin.manifest.permissions?.includes('storage') ?? false,
    };
    for (const intent of plugin.manifest.intents) {
      const owner = routes.get(intent.name);
      if (owner) {
        throw new PluginLoadError(
          PluginErrorCode.DuplicateIntent,
          plugin.name,
          plugin.dir,
          `intent '${intent.name}' is already declared by plugin '${owner.plugin.name}'`,
        );
      }
      routes.set(intent.name, route);
    }
  }
  return {
    plugins: Object.freeze([...plugins]),
    routes,
    intents: Object.freeze(declareIntents(plugins)),
    catalog: buildCatalog(plugins),
  };
}

function toTexts(result: unknown, plugin: string, intent: string): string[] {
  const invalid = (what: string): PluginError =>
    new PluginError(PluginErrorCode.InvalidResult, plugin, intent, { cause: new TypeError(what) });
  if (typeof result !== 'object' || result === null)
    throw invalid(`got ${result === null ? 'null' : typeof result}`);
  const value = result as { text?: unknown; texts?: unknown };
  if ('text' in value) {
    if (typeof value.text !== 'string') throw invalid('`text` must be a string');
    return [value.text];
  }
  if ('texts' in value) {
    if (!Array.isArray(value.texts) || !value.texts.every((text) => typeof text === 'string')) {
      throw invalid('`texts` must be an array of strings');
    }
    return [...(value.texts as readonly string[])];
  }
  throw invalid('an object without `text` or `texts`');
}

/**
 * Storage that refuses once the call was abandoned (timed out), so a skill that outlives its turn
 * cannot change what the person was told did not happen.
 */
function untilAbandoned(storage: PluginStorage, call: { readonly abandoned?: Error }): PluginStorage {
  const guard = <T>(operation: () => Promise<T>): Promise<T> =>
    call.abandoned ? Promise.reject(call.abandoned) : operation();
  return {
    get: (key) => guard(() => storage.get(key)),
    set: (key, value) => guard(() => storage.set(key, value)),
    delete: (key) => guard(() => storage.delete(key)),
    list: (prefix) => guard(() => storage.list(prefix)),
  };
}
