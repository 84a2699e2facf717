import { InvalidOptionsError } from './errors.js';

/**
 * A span of time: milliseconds as a number, or a string with a unit.
 *
 * @example
 * 250        // 250 ms
 * '250ms'
 * '1.5s'     // 1500 ms
 * '5m'       // 300000 ms
 * '1h'
 */
export type Duration = number | `${number}ms` | `${number}s` | `${number}m` | `${number}h`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * Turns a {@link Duration} into milliseconds.
 *
 * @param option names the option in the error message, e.g. `'askTimeout'`.
 * @throws InvalidOptionsError for negative, non-finite or malformed values.
 */
export function parseDuration(duration: Duration, option = 'duration'): number {
  if (typeof duration === 'number') {
    if (Number.isFinite(duration) && duration >= 0) return duration;
  } else if (typeof duration === 'string') {
    const match = DURATION_PATTERN.exec(duration);
    if (match !== null) return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  throw new InvalidOptionsError(
    option,
    duration,
    "a non-negative number of milliseconds or a string like '250ms', '5s', '2m', '1h'",
  );
}
