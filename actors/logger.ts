/**
 * The logging the actors need: the pino subset `(obj, msg)`, so a pino logger (or a child of one)
 * fits as is. Never log message text or names; ids and error objects only.
 */
export interface ActorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A logger that drops everything, for tests and embedders that do not care. */
export const silentLogger: ActorLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
