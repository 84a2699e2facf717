/**
 * Shared test helpers that give tests real servers: a fresh Postgres database, a store on every backend,
 * a `nats-server`.
 * Each handle is `AsyncDisposable`: `await using` cleans it up.
 */
export { createTestDatabase, DEFAULT_TEST_POSTGRES_URLS } from './postgres.js';
export type { TestDatabase } from './postgres.js';
export { storeBackends } from './store-backends.js';
export type { BackendStoreOptions, StoreBackendUnderTest, StoreLocation } from './store-backends.js';
export { CHROMIUM_PATH, chromiumMissing, launchChromium } from './chromium.js';
export { makeDevCertificates, MAKE_DEV_CERTS_SCRIPT } from './tls.js';
export type { DevCertificates } from './tls.js';
export { startNatsServer } from './nats.js';
export type { TestNatsServer, TestNatsServerOptions } from './nats.js';
export { postgresBinDir, startPostgresServer } from './postgres-server.js';
export type { TestPostgresServer } from './postgres-server.js';
