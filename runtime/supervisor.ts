/**
 * Supervision: what happens when an actor's code throws. The strategy is chosen by whoever spawns the
 * actor (its parent, the system guardian for top-level actors, the entity host for entities) through
 * `Props.supervision` / `EntityDefinition.supervision`, and is consulted once per failure.
 */
import type { ActorRef } from './actor-ref.js';
import { parseDuration, type Duration } from './duration.js';
import { InvalidOptionsError } from './errors.js';

export interface RestartBackoff {
  /** Delay before the first restart. @default '100ms' */
  min?: Duration;
  /** Longest delay between restarts. @default '10s' */
  max?: Duration;
  /** Each restart within the window waits `factor` times longer than the one before. @default 2 */
  factor?: number;
  /** Random extra delay, as a fraction of the computed one (0..1). @default 0 */
  jitter?: number;
}

/** What to do with an actor whose code failed. */
export type SupervisionDirective =
  /**
   * Replace the instance: `postStop` on the old one, then after a backoff (on the system's Clock) a new
   * instance from `create()` and its `preStart`. Messages that arrive meanwhile stay queued; the message
   * that failed is dropped (an asker is rejected with the failure). More than `maxRestarts` failures
   * within `within` stop the actor, and its parent is told with a `child-failed` signal.
   */
  | {
      type: 'restart';
      /** @default { min: '100ms', max: '10s', factor: 2, jitter: 0 } */
      backoff?: RestartBackoff;
      /** @default 10 */
      maxRestarts?: number;
      /** @default '1m' */
      within?: Duration;
    }
  /** Keep the instance and its state; go on with the next message. */
  | { type: 'resume' }
  /** Stop the actor; its parent is told with a `child-failed` signal. */
  | { type: 'stop' }
  /** Stop the actor and fail its parent with the error, for the parent's own supervisor to decide. */
  | { type: 'escalate' };

/** A fixed directive, or a function choosing one per failure (it receives the original error). */
export type SupervisionStrategy =
  SupervisionDirective | ((error: Error, child: ActorRef<unknown>) => SupervisionDirective);

/** Restart with backoff 100ms..10s (factor 2), at most 10 restarts a minute. */
export const defaultSupervision: SupervisionDirective = {
  type: 'restart',
  backoff: { min: '100ms', max: '10s', factor: 2, jitter: 0 },
  maxRestarts: 10,
  within: '1m',
};

/** A directive with defaults applied and durations in milliseconds. */
export type CompiledDirective =
  | {
      readonly type: 'restart';
      readonly minMs: number;
      readonly maxMs: number;
      readonly factor: number;
      readonly jitter: number;
      readonly maxRestarts: number;
      readonly withinMs: number;
    }
  | { readonly type: 'resume' }
  | { readonly type: 'stop' }
  | { readonly type: 'escalate' };

export function compileDirective(directive: SupervisionDirective): CompiledDirective {
  switch (directive.type) {
    case 'resume':
    case 'stop':
    case 'escalate':
      return { type: directive.type };
    case 'restart': {
      const backoff = directive.backoff ?? {};
      const compiled = {
        type: 'restart' as const,
        minMs: parseDuration(backoff.min ?? '100ms', 'supervision.backoff.min'),
        maxMs: parseDuration(backoff.max ?? '10s', 'supervision.backoff.max'),
        factor: backoff.factor ?? 2,
        jitter: backoff.jitter ?? 0,
        maxRestarts: directive.maxRestarts ?? 10,
        withinMs: parseDuration(directive.within ?? '1m', 'supervision.within'),
      };
      if (compiled.maxMs < compiled.minMs) {
        throw new InvalidOptionsError('supervision.backoff.max', backoff.max, 'a duration >= backoff.min');
      }
      if (!(compiled.factor >= 1)) {
        throw new InvalidOptionsError('supervision.backoff.factor', compiled.factor, 'a number >= 1');
      }
      if (!(compiled.jitter >= 0 && compiled.jitter <= 1)) {
        throw new InvalidOptionsError('supervision.backoff.jitter', compiled.jitter, 'a number from 0 to 1');
      }
      if (!(Number.isInteger(compiled.maxRestarts) && compiled.maxRestarts >= 0)) {
        throw new InvalidOptionsError('supervision.maxRestarts', compiled.maxRestarts, 'an integer >= 0');
      }
      if (compiled.withinMs <= 0) {
        throw new InvalidOptionsError('supervision.within', directive.within, 'a positive duration');
      }
      return compiled;
    }
    default: {
      const unknown: never = directive;
      throw new InvalidOptionsError(
        'supervision',
        unknown,
        "a directive of type 'restart', 'resume', 'stop' or 'escalate'",
      );
    }
  }
}

/**
 * Turns a strategy into the directive for one failure. A strategy function that itself throws or returns
 * an invalid directive yields `stop`, with the problem reported through `onStrategyError`.
 */
export function decideDirective(
  strategy: SupervisionStrategy,
  error: Error,
  child: ActorRef<unknown>,
  onStrategyError: (problem: Error) => void,
): CompiledDirective {
  try {
    return compileDirective(typeof strategy === 'function' ? strategy(error, child) : strategy);
  } catch (problem) {
    onStrategyError(problem instanceof Error ? problem : new Error(String(problem)));
    return { type: 'stop' };
  }
}

/** The restarts of one actor within the sliding window, and the backoff they imply. */
export class RestartHistory {
  private readonly times: number[] = [];

  /** Restarts within the window as of the last {@link next}. */
  get count(): number {
    return this.times.length;
  }

  /**
   * Records a restart at `now` and returns its delay: `min * factor^n` (n = restarts already in the window)
   * capped at `max`, plus jitter. `undefined` when `maxRestarts` are spent and the actor must stop.
   */
  next(
    directive: Extract<CompiledDirective, { type: 'restart' }>,
    now: number,
    random: () => number,
  ): number | undefined {
    const windowStart = now - directive.withinMs;
    while (this.times.length > 0 && (this.times[0] as number) <= windowStart) this.times.shift();
    if (this.times.length >= directive.maxRestarts) return undefined;
    const base = Math.min(directive.maxMs, directive.minMs * directive.factor ** this.times.length);
    this.times.push(now);
    return directive.jitter === 0 ? base : base * (1 + directive.jitter * random());
  }
}
