/**
 * What a conversation remembers between turns. Saved with every turn (atomically with the turn's
 * messages) and loaded when the conversation's actor is activated.
 */

/** A question Parley asked and is waiting on: the slot of an intent still missing. */
export interface PendingSlot {
  readonly intent: string;
  readonly slot: string;
  /** Entities gathered so far for this intent. */
  readonly entities: Readonly<Record<string, string>>;
}

export interface DialogState {
  readonly version: 1;
  /** The store's id of the sender of the current turn. */
  readonly userId?: string;
  /** Store user ids of the people who spoke here, by their platform id (group chats have several). */
  readonly users: Readonly<Record<string, string>>;
  /** The intent of the previous answered turn. */
  readonly lastIntent?: string;
  readonly pending?: PendingSlot | undefined;
  /** Answered turns so far. */
  readonly turns: number;
  /**
   * Idempotency ids of the most recent inbound messages: a fast path in front of the store's record
   * of every processed id, which stays the authority.
   */
  readonly recentIds: readonly string[];
}

/**
 * How many recent ids a state keeps. Every turn seals and stores the whole state, and the ids are most of
 * it: with 64 (~3 KB of state) a cluster node spent 8-10% more CPU a message, and Postgres 12% more, than
 * with 16 (measured in pairs, docs/benchmarks.md "Cluster"). A redelivery comes within a few messages of
 * its first delivery; an older duplicate is found by the store's lookup.
 */
export const RECENT_IDS_KEPT = 16;

export function initialDialogState(): DialogState {
  return { version: 1, turns: 0, recentIds: [], users: {} };
}

/** Accepts what the store hands back; anything unrecognisable starts afresh rather than failing the turn. */
export function reviveDialogState(value: unknown): DialogState {
  if (typeof value !== 'object' || value === null) return initialDialogState();
  const state = value as Partial<DialogState>;
  if (
    state.version !== 1 ||
    !Array.isArray(state.recentIds) ||
    typeof state.turns !== 'number' ||
    typeof state.users !== 'object' ||
    state.users === null
  ) {
    return initialDialogState();
  }
  return state as DialogState;
}
