/**
 * The composition root: the one place that knows every folder. `startAssistant` builds Parley from a
 * validated config, in the order one message travels: store -> plugins -> understanding ->
 * conversation actors -> gateways.
 */
import { fileURLToPath } from 'node:url';
import { createActorSystem, parseDuration, type ActorSystem, type NatsTransport } from '../runtime/index.js';
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
  conversationHandler,
  registerConversations,
  type InboundHandler,
} from '../actors/conversation/index.js';
import { createWebChatGateway, renderWebChatPage, type WebChatGateway } from '../actors/gateway/index.js';
import type { PluginStorage } from '../plugins/sdk.js';
import type { Config } from './config-schema.js';
import { joinCluster, type ClusterMembership } from './cluster.js';
import { startHttpServer, type HttpServer, type ReadinessCheck } from './http-server.js';
import { startUnderstanding } from './inference.js';
import type { Logger } from './logger.js';
import { UnsupportedRoleError } from './errors.js';
import { componentsFor } from './roles.js';
import { storeLocationOf } from './store-command.js';

/** The folder of Parley's built-in plugins. */
export const BUILTIN_PLUGINS_DIR = fileURLToPath(new URL('../plugins', import.meta.url));

export interface Assistant {
  /** Hands one inbound message to its conversation; resolves the replies. */
  readonly handle: InboundHandler;
  /** The HTTP listener's base URL, when this process runs one. */
  readonly url?: string;
  /** The store, on processes that run conversations (`all`, `core`). */
  readonly store?: Store;
  /** This node's cluster transport (`core`, `gateway`). */
  readonly cluster?: NatsTransport;
  /** Stops taking work, finishes in-flight turns, stores state, closes everything. Idempotent. */
  close(): Promise<void>;
}

export interface StartAssistantOptions {
  /** Start the HTTP listener (web chat on `all` and `gateway`, probes only on `core`). @default true */
  http?: boolean;
}

/**
 * Starts what `config.role` runs: `all` (everything in one process, in-process transport), `core`
 * (conversation actors taking shards over NATS), or `gateway` (channels handing messages to the cluster).
 */
export async function startAssistant(
  config: Config,
  logger: Logger,
  options: StartAssistantOptions = {},
): Promise<Assistant> {
  const components = componentsFor(config.role);
  if (!components.core && !components.gateway) {
    throw new UnsupportedRoleError(
      config.role,
      'this process runs no assistant; use `parley serve inference`',
    );
  }
  const closers: Array<() => Promise<void>> = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const closer of closers.splice(0).reverse()) await closer();
    })());
  try {
    const readiness: Record<string, ReadinessCheck> = {};
    let cluster: ClusterMembership | undefined;
    if (config.role !== 'all') {
      cluster = await joinCluster(config, logger, { hostsEntities: components.core });
      const membership = cluster;
      closers.push(() => membership.close());
      readiness.nats = () =>
        membership.connected() ? Promise.resolve() : Promise.reject(new Error('NATS disconnected'));
      logger.info(
        { node: cluster.transport.nodeId, role: config.role },
        `cluster node ${cluster.transport.nodeId}`,
      );
    }
    const conversationOptions = compileConversationOptions({
      ...config.conversation,
      maxTextChars: config.webChat.maxTextChars,
    });
    const createSystem = (): ActorSystem => {
      const created = createActorSystem({
        name: 'parley',
        logger: logger.child({ area: 'runtime' }),
        ...(cluster ? { transport: cluster.transport } : {}),
      });
      // Shut down before the store and understanding close: in-flight turns finish and are stored first.
      closers.push(() => created.shutdown());
      // Before that, a cluster node hands its shards over once their in-flight turns are answered.
      const transport = cluster?.transport;
      if (transport) closers.push(() => transport.drain());
      return created;
    };

    let store: Store | undefined;
    let handle: InboundHandler;
    if (components.core) {
      const opened = await createStore({
        ...storeLocationOf(config),
        onBackgroundError: (error) => logger.error({ err: error }, 'store: background connection error'),
      });
      store = opened;
      closers.push(() => opened.close());
      readiness.store = () => opened.ping();
      logger.info({ backend: opened.backend }, 'store ready');

      const host = await loadSkills(config, logger, storeBackedStorage(opened.pluginData));
      const understanding = await startUnderstanding(config, host.intents(), logger);
      closers.push(() => understanding.close());
      logger.info(`understanding: rules, then the intent model (${understanding.description})`);
      handle = registerConversations(createSystem(), {
        classifier: understanding.classifier,
        skills: host,
        store: opened,
        options: conversationOptions,
        logger: logger.child({ area: 'conversation' }),
        ...(cluster ? { writer: cluster.transport.nodeId } : {}),
      });
    } else {
      handle = conversationHandler(createSystem(), conversationOptions);
    }
    // Shards are taken once the conversations can be hosted.
    await cluster?.transport.start();

    let http: HttpServer | undefined;
    if (options.http ?? true) {
      const webChat: WebChatGateway | undefined = components.gateway
        ? createWebChatGateway({
            handle,
            maxFrameBytes: config.webChat.maxFrameBytes,
            maxTextChars: config.webChat.maxTextChars,
            logger: logger.child({ area: 'web-chat' }),
          })
        : undefined;
      http = await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        logger,
        page: webChat ? renderWebChatPage : () => CORE_NODE_PAGE,
        upgrade: (req, socket, head) =>
          webChat ? webChat.handleUpgrade(req, socket, head) : socket.destroy(),
        readiness,
      });
      const server = http;
      // Closed first on shutdown: stop taking messages before the actors drain.
      closers.push(async () => {
        server.drain();
        await webChat?.close();
        await server.close();
      });
      logger.info({ url: http.url }, webChat ? `web chat on ${http.url}` : `probes on ${http.url}`);
    }
    return {
      handle,
      close,
      ...(store ? { store } : {}),
      ...(cluster ? { cluster: cluster.transport } : {}),
      ...(http ? { url: http.url } : {}),
    };
  } catch (error) {
    await close();
    throw error;
  }
}

const CORE_NODE_PAGE =
  '<!doctype html><title>Parley core node</title><p>This is a Parley core node: it runs conversations for ' +
  'the cluster. Chat through a gateway node.</p>';

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
