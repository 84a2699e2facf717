/** Structured logs: JSON lines in production, readable lines in a terminal. Personal data is redacted. */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** @default true when the destination is a terminal */
  pretty?: boolean | undefined;
  /** @default stdout (fd 1) */
  destination?: 1 | 2;
}

/** Keys whose values never reach a log line: secrets and what people wrote. */
export const REDACTED_PATHS = [
  'databaseUrl',
  '*.databaseUrl',
  'password',
  '*.password',
  'token',
  '*.token',
  'text',
  '*.text',
  'content',
  '*.content',
];

export function createLogger(options: LoggerOptions): Logger {
  const fd = options.destination ?? 1;
  const base = { level: options.level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  const isTty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (options.pretty ?? isTty) {
    return pino(
      base,
      pretty({
        destination: fd,
        colorize: isTty,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname',
        sync: true,
      }),
    );
  }
  return pino(base, pino.destination({ fd, sync: fd === 2 }));
}
