import type { Kysely } from 'kysely';
import type { BlindIndex } from './blind-index.js';
import type { Database } from './database.js';
import { InvalidValueError } from './errors.js';
import type { FieldSealer } from './field-codec.js';

/** What every repository works with; one per store, or per transaction. */
export interface RepositoryContext {
  readonly db: Kysely<Database>;
  readonly sealer: FieldSealer;
  readonly blindIndex: BlindIndex;
  readonly clock: () => number;
}

/** Postgres error code (SQLSTATE) of a driver error: both `pg` and PGlite set `code`. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const SqlState = {
  ForeignKeyViolation: '23503',
} as const;

/** Reads a `bigint` column, which `pg` returns as a string and PGlite as a number. */
export function int8ToNumber(value: string | number | bigint): number {
  return Number(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function requireUuid(field: string, value: string): void {
  if (!isUuid(value)) throw new InvalidValueError(field, `expected a uuid, got ${JSON.stringify(value)}`);
}

export function requireNonEmpty(field: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidValueError(field, 'expected a non-empty string');
  }
}

export function requireTimestamp(field: string, value: number): Date {
  const date = new Date(value);
  if (!Number.isFinite(value) || Number.isNaN(date.getTime())) {
    throw new InvalidValueError(field, `expected epoch milliseconds, got ${String(value)}`);
  }
  return date;
}
