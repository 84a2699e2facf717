import { resolve } from 'node:path';
import { z } from 'zod';
import { StoreOptionsError } from './errors.js';
import type { FieldCodec } from './field-codec.js';
import { plainCodec } from './field-codec.js';

/**
 * Options of {@link createStore}. Every field is optional: `createStore({})` opens the embedded PGlite
 * store in `./data/pglite`.
 *
 * @example
 * ```ts
 * // embedded, zero setup
 * await createStore({});
 * // cluster
 * await createStore({ databaseUrl: process.env.DATABASE_URL, blindIndexKey: keyFromKeyRing });
 * ```
 */
export interface StoreOptions {
  /**
   * Postgres URL (`postgres://user:pass@host:5432/db`); when set (and not empty), `pg` is used and
   * `dataDir` is ignored.
   */
  databaseUrl?: string | undefined;
  /**
   * PGlite data directory when no `databaseUrl`; created when missing. `'memory://'` keeps everything in
   * memory. Only one process may open a directory at a time: its `parley.lock` file names the owner's
   * pid, and opening a directory a live process holds fails with `StoreDataDirError` (code
   * `StoreErrorCode.DataDirInUse`). A lock left by a process that died is taken over.
   * @default './data/pglite'
   */
  dataDir?: string | undefined;
  /**
   * Seals and opens sensitive fields.
   * @default plainCodec (no confidentiality; AES-256-GCM envelope encryption comes in a later issue)
   */
  codec?: FieldCodec | undefined;
  /**
   * Key (at least 32 bytes) of the HMAC-SHA256 blind index used to look rows up by platform user id and
   * conversation key. Changing it makes existing rows unfindable.
   * @default 32 random bytes generated on first start and kept in the `store_settings` table (the
   * encryption issue moves it to the key ring)
   */
  blindIndexKey?: Uint8Array | undefined;
  /**
   * Maximum number of pooled Postgres connections. Ignored by PGlite (one connection).
   * @default 10
   */
  poolSize?: number | undefined;
  /**
   * How long to wait for a Postgres connection: milliseconds, or a duration such as `'10s'`, `'500ms'`.
   * @default '10s'
   */
  connectTimeout?: number | string | undefined;
  /**
   * Longest a single Postgres statement may run before the server cancels it and the call rejects
   * (SQLSTATE `57014`, "canceling statement due to statement timeout"): milliseconds, or a duration such
   * as `'30s'`; `0` means no limit. Lock waits count, so a call stuck behind another transaction fails
   * too. Ignored by PGlite.
   * @default '30s'
   */
  statementTimeout?: number | string | undefined;
  /**
   * Where the app passes its logger: receives errors that happen outside any call, so no caller could
   * see them, such as an idle Postgres connection dropped by the server (the pool replaces it; the next
   * query reports any lasting problem). An error it throws is ignored.
   *
   * @example
   * ```ts
   * await createStore({ databaseUrl, onBackgroundError: (error) => logger.error({ err: error }, 'store') });
   * ```
   * @default a Node process warning (printed to stderr), so background errors never vanish
   */
  onBackgroundError?: ((error: Error) => void) | undefined;
  /**
   * Clock for `createdAt` / `updatedAt` timestamps, in epoch milliseconds; tests pass a simulated one.
   * @default Date.now
   */
  clock?: (() => number) | undefined;
}

/** Where the data lives; chosen once here, turned into a Kysely dialect by `dialect.ts`. */
export type StoreConnection =
  /** Embedded Postgres (WASM) in `dataDir`, an absolute path or `'memory://'`. */
  | { readonly type: 'pglite'; readonly dataDir: string }
  /** A Postgres server. `address` is `host:port/database`, safe to show (no credentials). */
  | {
      readonly type: 'postgres';
      readonly url: string;
      readonly address: string;
      readonly poolSize: number;
      readonly connectTimeoutMs: number;
      /** `0`: no limit. */
      readonly statementTimeoutMs: number;
    };

/** {@link StoreOptions} with defaults applied and values validated; the only form internal code sees. */
export interface CompiledStoreOptions {
  readonly connection: StoreConnection;
  readonly codec: FieldCodec;
  /** `undefined`: load (or create) the key kept in `store_settings`. */
  readonly blindIndexKey: Uint8Array | undefined;
  readonly onBackgroundError: (error: Error) => void;
  readonly clock: () => number;
}

export const DEFAULT_DATA_DIR = './data/pglite';
export const DEFAULT_STATEMENT_TIMEOUT = '30s';
export const MEMORY_DATA_DIR = 'memory://';
export const MIN_BLIND_INDEX_KEY_BYTES = 32;

const durationSchema = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, "a duration such as '10s', '500ms' or '1m'"),
]);

const codecSchema = z.custom<FieldCodec>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as FieldCodec).id === 'string' &&
    typeof (value as FieldCodec).seal === 'function' &&
    typeof (value as FieldCodec).open === 'function',
  'a FieldCodec with id, seal() and open()',
);

const storeOptionsSchema = z.object({
  databaseUrl: z.string().optional(),
  dataDir: z.string().min(1).optional(),
  codec: codecSchema.optional(),
  blindIndexKey: z
    .instanceof(Uint8Array)
    .refine((key) => key.length >= MIN_BLIND_INDEX_KEY_BYTES, {
      message: `at least ${MIN_BLIND_INDEX_KEY_BYTES} bytes`,
    })
    .optional(),
  poolSize: z.number().int().min(1).max(1000).optional(),
  connectTimeout: durationSchema.optional(),
  statementTimeout: durationSchema.optional(),
  onBackgroundError: z.custom<(error: Error) => void>((v) => typeof v === 'function').optional(),
  clock: z.custom<() => number>((v) => typeof v === 'function').optional(),
});

/** Applies defaults and validates; throws {@link StoreOptionsError} listing every problem. */
export function compileStoreOptions(options: StoreOptions): CompiledStoreOptions {
  const parsed = storeOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new StoreOptionsError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`),
      { cause: parsed.error },
    );
  }
  const o = parsed.data;
  const connection: StoreConnection =
    o.databaseUrl !== undefined && o.databaseUrl !== ''
      ? {
          type: 'postgres',
          url: o.databaseUrl,
          address: postgresAddress(o.databaseUrl),
          poolSize: o.poolSize ?? 10,
          connectTimeoutMs: durationToMs(o.connectTimeout ?? '10s'),
          statementTimeoutMs: durationToMs(o.statementTimeout ?? DEFAULT_STATEMENT_TIMEOUT),
        }
      : { type: 'pglite', dataDir: resolveDataDir(o.dataDir ?? DEFAULT_DATA_DIR) };
  return {
    connection,
    codec: o.codec ?? plainCodec,
    blindIndexKey: o.blindIndexKey,
    onBackgroundError: o.onBackgroundError ?? warnBackgroundError,
    clock: o.clock ?? Date.now,
  };
}

/** Default `onBackgroundError`: a process warning, which Node prints to stderr. */
function warnBackgroundError(error: Error): void {
  process.emitWarning(`Parley store background error: ${error.message}`, {
    type: 'StoreBackgroundError',
    detail: error.stack,
  });
}

function resolveDataDir(dataDir: string): string {
  return dataDir.startsWith(MEMORY_DATA_DIR) ? MEMORY_DATA_DIR : resolve(dataDir);
}

/** `host:port/database` of a Postgres URL, without credentials, for error messages. */
function postgresAddress(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch (error) {
    throw new StoreOptionsError(['databaseUrl: not a URL; expected postgres://user:password@host:5432/db'], {
      cause: error,
    });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new StoreOptionsError([`databaseUrl: expected a postgres:// URL, got ${url.protocol}//`]);
  }
  // A Unix socket is given as ?host=/path with an empty host part.
  const host = url.hostname || url.searchParams.get('host') || 'localhost';
  const database = decodeURIComponent(url.pathname.slice(1));
  return `${host}:${url.port || '5432'}${database ? `/${database}` : ''}`;
}

function durationToMs(duration: number | string): number {
  if (typeof duration === 'number') return duration;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  const unit = { ms: 1, s: 1_000, m: 60_000 } as const;
  // The schema only lets matching strings through.
  return Math.round(Number(match?.[1]) * unit[(match?.[2] ?? 'ms') as keyof typeof unit]);
}
