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
}

export function initialDialogState(): DialogState {
  return { version: 1, turns: 0, users: {} };
}

/**
 * The state as it is stored. States used to hold `recentIds`, the last 16 inbound ids: a fast path for
 * duplicates, which the store's lookup before every turn finds anyway. They were most of the state's size
 * (~10% of a cluster node's throughput). The field stays, empty: a node of the previous version, during a
 * rolling deploy, starts a conversation afresh from a state without it.
 */
export function storedDialogState(state: DialogState): DialogState & { readonly recentIds: [] } {
  return { ...state, recentIds: [] };
}

/**
 * Accepts what the store hands back; anything unrecognisable starts afresh rather than failing the turn.
 * `recentIds` (see {@link storedDialogState}) is dropped, with the ids a state stored before 2026-12-04
 * holds.
 */
export function reviveDialogState(value: unknown): DialogState {
  if (typeof value !== 'object' || value === null) return initialDialogState();
  const { recentIds: _dropped, ...state } = value as Partial<DialogState> & { recentIds?: unknown };
  if (
    state.version !== 1 ||
    typeof state.turns !== 'number' ||
    typeof state.users !== 'object' ||
    state.users === null
  ) {
    return initialDialogState();
  }
  return state as DialogState;
}
