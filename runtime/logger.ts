/**
 * The logging the runtime needs: the pino call shape `(object, message)`, so a pino logger (or a child of
 * one) can be passed as is.
 */
export interface RuntimeLogger {
  debug(object: Record<string, unknown>, message: string): void;
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

const ignore = (): void => {};

/** Drops everything; the default. */
export const silentLogger: RuntimeLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
