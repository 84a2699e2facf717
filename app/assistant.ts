/**
 * The composition root: the one place that knows every folder. `startAssistant` builds Parley from a
 * validated config, in the order one message travels: store -> plugins -> understanding ->
 * conversation actors -> gateways.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createActorSystem, parseDuration, type ActorSystem } from '../runtime/index.js';
import { createStore, type Store } from '../store/index.js';
import {
  createPluginHost,
  loadPlugins,
  storeBackedStorage,
  type LoadedPlugin,
  type PluginHost,
} from '../actors/skills/index.js';
import {
  compileConversationOptions,
  registerConversations,
  type InboundHandler,
} from '../actors/conversation/index.js';
import { createWebChatGateway, renderWebChatPage, type WebChatGateway } from '../actors/gateway/index.js';
import type { PluginStorage } from '../plugins/sdk.js';
import type { Config } from './config-schema.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import { startUnderstanding } from './inference.js';
import type { Logger } from './logger.js';
import { UnsupportedRoleError } from './errors.js';
import { componentsFor } from './roles.js';

/** The folder of Parley's built-in plugins. */
export const BUILTIN_PLUGINS_DIR = fileURLToPath(new URL('../plugins', import.meta.url));

export interface Assistant {
  /** Hands one inbound message to its conversation; resolves the replies. */
  readonly handle: InboundHandler;
  /** The HTTP listener's base URL, when this process runs a gateway with HTTP. */
  readonly url?: string;
  readonly store: Store;
  /** Stops taking work, finishes in-flight turns, stores state, closes everything. Idempotent. */
  close(): Promise<void>;
}

export interface StartAssistantOptions {
  /** Start the HTTP listener (web chat + probes). @default true */
  http?: boolean;
}

export async function startAssistant(
  config: Config,
  logger: Logger,
  options: StartAssistantOptions = {},
): Promise<Assistant> {
  if (!componentsFor(config.role).core) {
    throw new UnsupportedRoleError(
      config.role,
      'this process runs no assistant; use `parley serve inference`',
    );
  }
  const closers: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    const store = await createStore({
      ...(config.databaseUrl
        ? { databaseUrl: config.databaseUrl }
        : { dataDir: join(config.dataDir, 'pglite') }),
      onBackgroundError: (error) => logger.error({ err: error }, 'store: background connection error'),
    });
    closers.push(() => store.close());
    logger.info({ backend: store.backend }, 'store ready');

    const host = await loadSkills(config, logger, storeBackedStorage(store.pluginData));
    const understanding = await startUnderstanding(config, host.intents(), logger);
    closers.push(() => understanding.close());
    logger.info(`understanding: rules, then the intent model (${understanding.description})`);
    const { classifier } = understanding;

    const system: ActorSystem = createActorSystem({
      name: 'parley',
      logger: logger.child({ area: 'runtime' }),
    });
    closers.push(() => system.shutdown());
    const handle = registerConversations(system, {
      classifier,
      skills: host,
      store,
      options: compileConversationOptions({
        ...config.conversation,
        maxTextChars: config.webChat.maxTextChars,
      }),
      logger: logger.child({ area: 'conversation' }),
    });

    let http: HttpServer | undefined;
    if (options.http ?? true) {
      const webChat: WebChatGateway = createWebChatGateway({
        handle,
        maxFrameBytes: config.webChat.maxFrameBytes,
        maxTextChars: config.webChat.maxTextChars,
        logger: logger.child({ area: 'web-chat' }),
      });
      http = await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        logger,
        page: renderWebChatPage,
        upgrade: (req, socket, head) => webChat.handleUpgrade(req, socket, head),
        readiness: { store: () => store.ping() },
      });
      const server = http;
      // Closed first on shutdown: stop taking messages before the actors drain.
      closers.push(async () => {
        server.drain();
        await webChat.close();
        await server.close();
      });
      logger.info({ url: http.url }, `web chat on ${http.url}`);
    }
    return { handle, store, close, ...(http ? { url: http.url } : {}) };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Loads the configured plugin folders into a host. `storageFor` backs the skills' storage; without it
 * (e.g. when only the intents are needed) a skill that touches storage fails.
 */
export async function loadSkills(
  config: Config,
  logger: Logger,
  storageFor: (plugin: string, userId: string) => PluginStorage = () => {
    throw new Error('no storage: these plugins were loaded for their intents only');
  },
): Promise<PluginHost> {
  const dirs = config.plugins.dirs ?? [BUILTIN_PLUGINS_DIR];
  const plugins: LoadedPlugin[] = [];
  // One folder after another, so a plugin repeated in a later folder is reported and skipped.
  for (const dir of dirs) {
    const result = await loadPlugins(dir, { alreadyLoaded: plugins });
    plugins.push(...result.plugins);
    for (const failure of result.failures) {
      logger.warn(
        { path: failure.path, reason: failure.reason },
        `plugin skipped: ${failure.path}: ${failure.reason}`,
      );
    }
  }
  logger.info({ plugins: plugins.map((plugin) => plugin.name) }, `${plugins.length} plugins loaded`);
  return createPluginHost({
    plugins,
    storageFor,
    callTimeoutMs: parseDuration(config.plugins.callTimeout),
    ...(config.timezone ? { config: { time: { timezone: config.timezone } } } : {}),
  });
}
