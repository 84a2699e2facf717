import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { BlindIndexPurpose } from './blind-index.js';
import type { Bytes, Database } from './database.js';
import { InvalidValueError, StaleEpochError, UnknownUserError } from './errors.js';
import { fieldAad } from './field-codec.js';
import { openContent, openIdempotencyId, openReplies, sealReplies } from './messages.js';
import { prepared } from './prepared-statements.js';
import { ProcessedIds } from './processed-ids.js';
import { coalesced } from './coalesced.js';
import type { RepositoryContext } from './repository-support.js';
import {
  SqlState,
  int8ToNumber,
  requireNonEmpty,
  requireTimestamp,
  requireUuid,
  sqlStateOf,
} from './repository-support.js';
import { inTransaction } from './transaction.js';
import {
  openTurnBody,
  sealTurnBody,
  turnJournalEnabled,
  turnReplies,
  type TurnBody,
} from './turn-journal.js';

/** A conversation as the conversation actor loads it on activation. */
export interface ConversationRecord {
  /** Stable id (uuid). */
  readonly id: string;
  /** The conversation key the gateway addresses it by (stored sealed, found by blind index). */
  readonly key: string;
  readonly channel: string;
  /** The user who started the conversation. */
  readonly userId?: string;
  /** Dialog state as last recorded (JSON, opened). */
  readonly state: unknown;
  /** Highest fencing epoch that has written the conversation; `0` when never fenced. */
  readonly epoch: number;
  readonly updatedAt: Date;
}

/** A reply of a turn: as given to `recordTurn`, and as `repliesTo` returns it. */
export interface StoredReply {
  /**
   * Reply id (the reply's idempotency id), distinct from the turn's other ids. Derive it from the inbound
   * id, as the conversation actor does (`<inbound id>#<n>`), so it is unique across messages: since
   * migration 0007 a turn's replies are kept in its row, and only the inbound id has a unique index.
   */
  readonly id: string;
  /** JSON-serialisable content. */
  readonly content: unknown;
  /** When it was sent, epoch milliseconds. */
  readonly sentAt: number;
}

/** One processed inbound message with its replies and the dialog state after it. */
export interface Turn {
  readonly conversationKey: string;
  readonly channel: string;
  /** The user who sent the inbound message (must exist: see `UserRepository.upsert`). */
  readonly userId: string;
  /** Dialog state after the turn; JSON-serialisable (`undefined` is stored as `null`). */
  readonly state: unknown;
  readonly inbound: {
    /**
     * The channel's idempotency id, e.g. `telegram:<bot>:<update_id>`; a turn is recorded once per id.
     * Stored sealed and found by blind index, as it may embed a credential (the web session id).
     */
    readonly idempotencyId: string;
    /** JSON-serialisable message content. */
    readonly content: unknown;
    /** When the user sent it, epoch milliseconds. */
    readonly sentAt: number;
  };
  readonly outbound: ReadonlyArray<StoredReply>;
  /**
   * Fencing token: the writer's shard lease epoch. A turn with an epoch lower than the conversation's
   * stored one is rejected with `StaleEpochError`; otherwise the stored epoch becomes this one. Omitted:
   * no fencing (embedded mode), and the stored epoch is kept.
   */
  readonly epoch?: number | undefined;
  /** Who writes the turn, e.g. the node id; kept with its messages for checks (see `turnLog`). */
  readonly writer?: string | undefined;
}

/** An inbound message of a conversation as recorded, with the fencing record of its turn. */
export interface TurnLogEntry {
  /**
   * Position in the store's message order. Within a conversation it is commit order: a turn holds the
   * conversation's row lock until it commits.
   */
  readonly seq: number;
  /** The channel's idempotency id of the inbound message. */
  readonly idempotencyId: string;
  /** The turn's fencing epoch; `undefined` when it was recorded unfenced. */
  readonly epoch: number | undefined;
  /** The turn's `writer`; `undefined` when not given. */
  readonly writer: string | undefined;
  /** When the store recorded the turn. */
  readonly recordedAt: Date;
}

export interface LoadOptions {
  /**
   * Claims the conversation for this fencing epoch as it is read: its stored epoch is raised to it (never
   * lowered), so from then on a turn recorded under an earlier epoch (a previous owner finishing late) is
   * refused as stale, even before this owner has recorded one. The returned record carries the epoch.
   * A conversation not stored yet has nothing to claim: this owner's first turn claims it.
   */
  readonly claimEpoch?: number;
}

/** `'recorded'`: the turn was written. `'duplicate'`: its inbound id was already recorded; nothing changed. */
export type RecordTurnResult = 'recorded' | 'duplicate';

/** Conversations and their turns. */
export interface ConversationRepository {
  /** The conversation addressed by `conversationKey`, or `undefined` before its first recorded turn. */
  load(conversationKey: string, options?: LoadOptions): Promise<ConversationRecord | undefined>;
  /**
   * Records a turn in one transaction: creates the conversation at its first turn, and appends the inbound
   * message, the replies and the state after them as one journal row (migration 0009; a store made by an
   * earlier version, until `useTurnJournal`: updates the conversation's state and inserts a `messages`
   * row). Race-safe: of concurrent turns with one inbound idempotency id,
   * exactly one is recorded. Concurrent calls may share a statement and its commit; each gets its own
   * answer, and a failing turn fails alone.
   * @throws StaleEpochError when `turn.epoch` is lower than the stored epoch (nothing is written)
   * @throws UnknownUserError when `turn.userId` does not exist
   */
  recordTurn(turn: Turn): Promise<RecordTurnResult>;
  /**
   * Whether an inbound message with this idempotency id has been recorded. Concurrent calls share one
   * query (see {@link coalesced}).
   */
  hasProcessed(idempotencyId: string): Promise<boolean>;
  /**
   * The inbound ids recorded in this conversation, loaded into memory: an actor that holds the
   * conversation (and records its turns, noting each with `add`) can then tell a new message from one it
   * must look up (`hasProcessed`) without asking the store. Load it once the conversation is claimed, so
   * that no earlier owner records a turn after it. An id recorded in another conversation is not in it:
   * such a message is found a duplicate only when its turn is recorded (`recordTurn` answers
   * `'duplicate'`). Past {@link MAX_PROCESSED_IDS} ids it answers "maybe" for every id.
   */
  processedIds(conversationKey: string): Promise<ProcessedIds>;
  /**
   * The replies recorded with the inbound message of this idempotency id, in the order they were given
   * to `recordTurn`; empty when the id is unknown (or the turn had no replies). An actor answers a
   * redelivered duplicate with them, so a reply lost on the way is sent again.
   */
  repliesTo(idempotencyId: string): Promise<StoredReply[]>;
  /**
   * The conversation's inbound messages in recorded order, with the epoch and writer of each turn: a
   * cluster check can tell from it that no two nodes recorded turns of the conversation at once (epochs
   * never go down) and that its messages were recorded in order. Empty for an unknown conversation.
   */
  turnLog(conversationKey: string): Promise<TurnLogEntry[]>;
}

const CONVERSATIONS = 'conversations';

/** A `bigint` column as read: see {@link int8ToNumber}. */
type Int8Read = Parameters<typeof int8ToNumber>[0];

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Most keys in one duplicate check. */
const LOOKUP_BATCH = 256;

/**
 * The duplicate check, over both tables (migration 0009): `parley_processed_v2` plans its index probes
 * once per connection.
 */
const PROCESSED_STATEMENT = prepared('select "index" from parley_processed_v2($1::bytea[]) as p("index")');

/** Appends a batch of journal turns (migration 0009); one answer a turn, in order. */
const APPEND_TURNS_STATEMENT = prepared(
  'select result from parley_append_turns($1::uuid[], $2::uuid[], $3::bytea[], $4::bigint[], $5::bytea[], ' +
    '$6::text[], $7::text, $8::timestamptz) as r(result)',
);

/**
 * Most turns in one statement. Turns that arrive while {@link TURN_STATEMENTS_IN_FLIGHT} statements run
 * go together in the next: one statement, one commit and one WAL flush for all of them. One in flight
 * makes the batches largest: with three nodes sharing one Postgres, paired against two in flight,
 * 3,838 -> 4,282 messages/s (one node: 4,860 -> 4,939). A turn that finds none running goes at once.
 */
const TURN_BATCH = 64;
const TURN_STATEMENTS_IN_FLIGHT = 1;

/** `parley_record_turn_v2`'s parameters (migration 0007): name and type, in order. */
const TURN_PARAMETERS = [
  ['key_index', 'bytea'],
  ['id', 'uuid'],
  ['key', 'bytea'],
  ['channel', 'text'],
  ['user_id', 'uuid'],
  ['state', 'bytea'],
  ['epoch', 'bigint'],
  ['writer', 'text'],
  ['codec', 'text'],
  ['now', 'timestamptz'],
  ['inbound_id', 'uuid'],
  ['inbound_index', 'bytea'],
  ['inbound_sealed_id', 'bytea'],
  ['inbound_content', 'bytea'],
  ['inbound_sent_at', 'timestamptz'],
  ['replies', 'bytea'],
] as const;

const recordTurnsStatements = new Map<number, string>();

/**
 * The statement that calls `parley_record_turn_v2` once for each of `count` rows of parameters: `$1` is row
 * 0's position, `$2..$17` its arguments, and so on. Written out, not built with Kysely's `sql` template:
 * a batch has ~17 parameters a turn, and building and compiling their nodes cost ~8% of a busy core node.
 * Kept per count (at most {@link TURN_BATCH}), and prepared once per connection under a name on Postgres.
 */
function recordTurnsStatement(count: number): string {
  let statement = recordTurnsStatements.get(count);
  if (statement !== undefined) return statement;
  const width = TURN_PARAMETERS.length + 1;
  const rows = Array.from({ length: count }, (_, row) => {
    const args = TURN_PARAMETERS.map(([, type], a) => `$${row * width + a + 2}::${type}`);
    return `($${row * width + 1}::int, ${args.join(', ')})`;
  });
  const names = TURN_PARAMETERS.map(([name]) => `"${name}"`).join(', ');
  statement = prepared(
    `select t.n, parley_record_turn_v2(${names}) as result ` +
      `from (values ${rows.join(', ')}) as t(n, ${names}) order by t.n`,
  );
  recordTurnsStatements.set(count, statement);
  return statement;
}

/** The arguments of one `parley_record_turn_v2` call, in the order of {@link TURN_PARAMETERS}. */
interface TurnCall {
  readonly keyIndex: Uint8Array;
  readonly args: readonly unknown[];
}

/** One journal turn of a `parley_append_turns` call (migration 0009). */
interface AppendCall {
  readonly conversationId: string;
  readonly userId: string;
  readonly index: Uint8Array;
  readonly epoch: number | null;
  readonly body: Uint8Array;
  readonly writer: string | null;
}

/** The statement recording several turns failed; each is tried again alone to find whose fault it was. */
class TurnBatchFailed extends Error {
  override readonly name = 'TurnBatchFailed';
}

/** Thrown inside the turn's transaction to roll it back when the inbound message is a duplicate. */
class DuplicateTurn extends Error {
  override readonly name = 'DuplicateTurn';
}

/** Most inbound ids {@link ConversationRepository.processedIds} keeps for one conversation (~3 MB). */
export const MAX_PROCESSED_IDS = 100_000;

/** Conversation ids remembered by conversation key, so a turn can be recorded in one round trip. */
const KNOWN_IDS = 10_000;

/** Inbound ids whose blind index is remembered: more than the turns a node has in flight. */
const RECENT_INBOUND_IDS = 1024;

/**
 * `compute`, remembering its answers for the last `size` values asked. The answers are shared: callers
 * must not change them.
 */
function remembered(size: number, compute: (value: string) => Uint8Array): (value: string) => Uint8Array {
  const answers = new Map<string, Uint8Array>();
  return (value) => {
    let answer = answers.get(value);
    if (answer === undefined) {
      answer = compute(value);
      answers.set(value, answer);
      if (answers.size > size) answers.delete(answers.keys().next().value!);
    }
    return answer;
  };
}

export function createConversationRepository(ctx: RepositoryContext): ConversationRepository {
  const { sealer, blindIndex } = ctx;
  // An HMAC is ~2-3 µs, most of it setting up the key. A turn needs its conversation key's index and its
  // inbound id's (asked for by the actor's `ProcessedIds` check, the record and the `add` after it).
  const indexOf = remembered(KNOWN_IDS, (key) => blindIndex.compute(BlindIndexPurpose.ConversationKey, key));
  const idempotencyIndexOf = remembered(RECENT_INBOUND_IDS, (id) =>
    blindIndex.compute(BlindIndexPurpose.IdempotencyId, id),
  );
  /** The sealed columns of turn row `id` (migration 0007): one place for their aad, for both paths. */
  const sealTurnRow = async (id: string, turn: Turn) => ({
    idempotencyId: await sealer.sealText(
      turn.inbound.idempotencyId,
      fieldAad('messages', 'idempotency_id', id),
    ),
    content: await sealer.sealJson(
      turn.inbound.content,
      fieldAad('messages', 'content', id),
      'inbound content',
    ),
    replies: await sealReplies(sealer, id, turn.outbound),
  });
  /** The id of the conversation addressed by `conversationKey`, as a subquery. */
  const idOf = (conversationKey: string) =>
    ctx.db
      .selectFrom('conversations')
      .select('id')
      .where('conversation_key_index', '=', indexOf(conversationKey));
  /** The `messages` rows of a conversation's inbound messages (each a turn since migration 0007). */
  const inboundRowsOf = (conversationKey: string) =>
    ctx.db
      .selectFrom('messages')
      .where('conversation_id', '=', idOf(conversationKey))
      .where('direction', '=', 'inbound');
  /** A conversation's journal turns (migration 0009). */
  const turnsOf = (conversationKey: string) =>
    ctx.db.selectFrom('turns').where('conversation_id', '=', idOf(conversationKey));
  // A conversation's id never changes while its row lives; a stale entry (the row was deleted with its
  // user) only sends a turn down the transaction path, which finds out. Keyed by conversation key, as
  // `indexOf` remembers its index.
  const knownIds = new Map<string, string>();
  const remember = (conversationKey: string, id: string): void => {
    knownIds.delete(conversationKey);
    knownIds.set(conversationKey, id);
    if (knownIds.size > KNOWN_IDS) knownIds.delete(knownIds.keys().next().value!);
  };

  /** Locks the conversation row, creating it with the turn's state when missing. */
  async function lockOrCreate(
    trx: Kysely<Database>,
    turn: Turn,
    keyIndex: Uint8Array,
    now: Date,
  ): Promise<{ id: string; epoch: number; created: boolean }> {
    const lock = () =>
      trx
        .selectFrom('conversations')
        .select(['id', 'epoch'])
        .where('conversation_key_index', '=', keyIndex)
        .forUpdate()
        .executeTakeFirst();
    const existing = await lock();
    if (existing !== undefined) {
      return { id: existing.id, epoch: int8ToNumber(existing.epoch), created: false };
    }

    const id = randomUUID();
    const inserted = await trx
      .insertInto('conversations')
      .values({
        id,
        conversation_key_index: keyIndex,
        conversation_key: await sealer.sealText(
          turn.conversationKey,
          fieldAad(CONVERSATIONS, 'conversation_key', id),
        ),
        channel: turn.channel,
        user_id: turn.userId,
        state: await sealer.sealJson(turn.state, fieldAad(CONVERSATIONS, 'state', id), 'state'),
        epoch: turn.epoch ?? 0,
        codec: sealer.codec.id,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('conversation_key_index').doNothing())
      .returning(['id', 'epoch'])
      .executeTakeFirst();
    if (inserted !== undefined) return { id, epoch: int8ToNumber(inserted.epoch), created: true };
    // Lost a creation race; the insert waited for the winner to commit, so the row is visible now.
    const winner = await lock();
    // Only a concurrent `users.forget()` of the winner's user can remove it in between.
    if (winner === undefined) throw new UnknownUserError(turn.userId);
    return { id: winner.id, epoch: int8ToNumber(winner.epoch), created: false };
  }

  /** Inserts the turn's row: its inbound message with the replies (migration 0007). */
  async function insertTurnRow(
    trx: Kysely<Database>,
    conversationId: string,
    turn: Turn,
    now: Date,
  ): Promise<RecordTurnResult> {
    const { inbound } = turn;
    const id = randomUUID();
    const sealed = await sealTurnRow(id, turn);
    const recorded = await trx
      .insertInto('messages')
      .values({
        id,
        conversation_id: conversationId,
        user_id: turn.userId,
        direction: 'inbound',
        idempotency_index: idempotencyIndexOf(inbound.idempotencyId),
        idempotency_id: sealed.idempotencyId,
        content: sealed.content,
        replies: sealed.replies,
        epoch: turn.epoch ?? null,
        writer: turn.writer ?? null,
        reply_to_index: null,
        codec: sealer.codec.id,
        sent_at: new Date(inbound.sentAt),
        created_at: now,
      })
      .onConflict((oc) => oc.column('idempotency_index').doNothing())
      .returning('id')
      .executeTakeFirst();
    return recorded === undefined ? 'duplicate' : 'recorded';
  }

  /** Inserts the turn's journal row (migration 0009), unless its inbound id is recorded in either table. */
  async function insertJournalRow(
    trx: Kysely<Database>,
    conversationId: string,
    turn: Turn,
    now: Date,
  ): Promise<RecordTurnResult> {
    const index = idempotencyIndexOf(turn.inbound.idempotencyId);
    const inMessages = await trx
      .selectFrom('messages')
      .select('id')
      .where('idempotency_index', '=', index)
      .where('direction', '=', 'inbound')
      .executeTakeFirst();
    if (inMessages !== undefined) return 'duplicate';
    const recorded = await trx
      .insertInto('turns')
      .values({
        conversation_id: conversationId,
        user_id: turn.userId,
        idempotency_index: index,
        epoch: turn.epoch ?? null,
        writer: turn.writer ?? null,
        codec: sealer.codec.id,
        body: await sealTurnBody(sealer, index, turnBodyOf(turn)),
        created_at: now,
      })
      .onConflict((oc) => oc.column('idempotency_index').doNothing())
      .returning('seq')
      .executeTakeFirst();
    return recorded === undefined ? 'duplicate' : 'recorded';
  }

  const processed = coalesced(
    async (indexes: Uint8Array[]) => {
      const { rows } = await ctx.db.executeQuery<{ index: Uint8Array }>(
        CompiledQuery.raw(PROCESSED_STATEMENT, [indexes]),
      );
      const found = new Set(rows.map((row) => hex(row.index)));
      return indexes.map((index) => found.has(hex(index)));
    },
    { maxBatch: LOOKUP_BATCH, maxInFlight: 2 },
  );

  /**
   * `parley_record_turn_v2` for each call, in one statement (so in one transaction). The calls go in the
   * order of their conversations' key index: every statement takes its row locks in one order, so two of
   * them never wait for each other in a cycle.
   */
  const callRecordTurn = async (calls: readonly TurnCall[]): Promise<string[]> => {
    const order = calls.map((_, i) => i);
    order.sort((a, b) => Buffer.compare(calls[a]!.keyIndex, calls[b]!.keyIndex));
    const { rows } = await ctx.db.executeQuery<{ n: number; result: string }>(
      CompiledQuery.raw(
        recordTurnsStatement(calls.length),
        order.flatMap((i, n) => [n, ...calls[i]!.args]),
      ),
    );
    const answers = new Array<string>(calls.length);
    for (const row of rows) answers[order[row.n]!] = row.result;
    return answers;
  };
  /**
   * Records calls together with the others made meanwhile: one statement, one answer each. When the
   * statement fails for several, each is tried again alone, so a failing turn fails alone.
   */
  const grouped = <T>(record: (calls: readonly T[]) => Promise<string[]>): ((call: T) => Promise<string>) => {
    const group = coalesced(
      async (calls: T[]) => {
        try {
          return await record(calls);
        } catch (error) {
          if (calls.length === 1) throw error;
          throw new TurnBatchFailed(`recording ${calls.length} turns failed`, { cause: error });
        }
      },
      { maxBatch: TURN_BATCH, maxInFlight: TURN_STATEMENTS_IN_FLIGHT },
    );
    return (call) =>
      group(call).catch(async (error: unknown) => {
        if (!(error instanceof TurnBatchFailed)) throw error;
        const [alone] = await record([call]);
        return alone!;
      });
  };
  const recordGrouped = grouped(callRecordTurn);
  const appendGrouped = grouped(async (calls: readonly AppendCall[]) => {
    const { rows } = await ctx.db.executeQuery<{ result: string }>(
      CompiledQuery.raw(APPEND_TURNS_STATEMENT, [
        calls.map((call) => call.conversationId),
        calls.map((call) => call.userId),
        calls.map((call) => call.index),
        calls.map((call) => call.epoch),
        calls.map((call) => call.body),
        calls.map((call) => call.writer),
        sealer.codec.id,
        new Date(ctx.clock()).toISOString(),
      ]),
    );
    return rows.map((row) => row.result);
  });

  /** Whether turns go to the journal (migration 0009): read at the first turn, again after a failed read. */
  let journalEnabled: boolean | undefined;
  const useJournal = async (): Promise<boolean> => (journalEnabled ??= await turnJournalEnabled(ctx.db));

  /** The turn as a journal row's body holds it. */
  const turnBodyOf = (turn: Turn): TurnBody => ({
    id: randomUUID(),
    idempotencyId: turn.inbound.idempotencyId,
    content: turn.inbound.content,
    sentAt: turn.inbound.sentAt,
    replies: turnReplies(turn.outbound),
    state: turn.state ?? null,
  });

  /**
   * The turn as a journal row (migration 0009), in one statement with the other turns made meanwhile, or
   * `'retry'` when this process does not know the conversation's id: the transaction below then creates
   * the conversation or finds it.
   */
  async function appendInOneStatement(turn: Turn): Promise<RecordTurnResult | 'retry'> {
    const conversationId = knownIds.get(turn.conversationKey);
    if (conversationId === undefined) return 'retry';
    const index = idempotencyIndexOf(turn.inbound.idempotencyId);
    const result = await appendGrouped({
      conversationId,
      userId: turn.userId,
      index,
      epoch: turn.epoch ?? null,
      body: await sealTurnBody(sealer, index, turnBodyOf(turn)),
      writer: turn.writer ?? null,
    });
    return settle(result, turn, conversationId);
  }

  /** What a turn statement's answer for one turn means (`parley_record_turn_v2`, `parley_append_turns`). */
  function settle(result: string, turn: Turn, conversationId: string): RecordTurnResult | 'retry' {
    if (result === 'recorded') {
      remember(turn.conversationKey, conversationId);
      return 'recorded';
    }
    if (result === 'duplicate') return 'duplicate';
    if (result.startsWith('stale ')) {
      throw new StaleEpochError(conversationId, turn.epoch ?? 0, Number(result.slice(6)));
    }
    knownIds.delete(turn.conversationKey);
    return 'retry';
  }

  /**
   * The turn by `parley_record_turn_v2` (migration 0007), in one statement with the other turns made
   * meanwhile, or `'retry'` when the function needs the conversation's id and this process does not know
   * it (yet): then the transaction below does it.
   */
  async function recordInOneStatement(turn: Turn, keyIndex: Uint8Array): Promise<RecordTurnResult | 'retry'> {
    const known = knownIds.get(turn.conversationKey);
    const id = known ?? randomUUID();
    // Times go as ISO strings: node-postgres formats a Date by hand, a few µs each on a busy node.
    const now = new Date(ctx.clock()).toISOString();
    const { inbound } = turn;
    const inboundIndex = idempotencyIndexOf(inbound.idempotencyId);
    const inboundId = randomUUID();
    const sealedKey =
      known === undefined
        ? await sealer.sealText(turn.conversationKey, fieldAad(CONVERSATIONS, 'conversation_key', id))
        : null;
    const sealed = await sealTurnRow(inboundId, turn);
    const call: TurnCall = {
      keyIndex,
      args: [
        keyIndex,
        id,
        sealedKey,
        turn.channel,
        turn.userId,
        await sealer.sealJson(turn.state, fieldAad(CONVERSATIONS, 'state', id), 'state'),
        turn.epoch ?? null,
        turn.writer ?? null,
        sealer.codec.id,
        now,
        inboundId,
        inboundIndex,
        sealed.idempotencyId,
        sealed.content,
        new Date(inbound.sentAt).toISOString(),
        sealed.replies,
      ],
    };
    return settle(await recordGrouped(call), turn, id);
  }

  return {
    async load(conversationKey, options = {}) {
      const keyIndex = indexOf(conversationKey);
      const { claimEpoch } = options;
      if (claimEpoch !== undefined && !(Number.isSafeInteger(claimEpoch) && claimEpoch >= 0)) {
        throw new InvalidValueError('claimEpoch', `expected a non-negative integer, got ${claimEpoch}`);
      }
      // Raised when below the claim (a new owner), else only read (a reactivation under the same epoch).
      const claimed =
        claimEpoch === undefined
          ? undefined
          : await ctx.db
              .updateTable('conversations')
              .set({ epoch: claimEpoch })
              .where('conversation_key_index', '=', keyIndex)
              .where('epoch', '<', claimEpoch)
              .returningAll()
              .executeTakeFirst();
      const row =
        claimed ??
        (await ctx.db
          .selectFrom('conversations')
          .selectAll()
          .where('conversation_key_index', '=', keyIndex)
          .executeTakeFirst());
      if (row === undefined) return undefined;
      remember(conversationKey, row.id);
      // The state is the latest journal turn's, unless a `messages` turn (which updates the row) came later.
      const { rows: latest } = await sql<{ idempotency_index: Bytes; body: Bytes; newest: boolean }>`
        select t.idempotency_index, t.body,
            t.seq > coalesce((select max(m.seq) from messages m where m.conversation_id = t.conversation_id), 0)
              as newest
          from turns t where t.conversation_id = ${row.id} order by t.seq desc limit 1`.execute(ctx.db);
      const latestTurn = latest[0]?.newest ? latest[0] : undefined;
      const base = {
        id: row.id,
        key: await sealer.openText(row.conversation_key, fieldAad(CONVERSATIONS, 'conversation_key', row.id)),
        channel: row.channel,
        state:
          latestTurn === undefined
            ? await sealer.openJson(row.state, fieldAad(CONVERSATIONS, 'state', row.id))
            : (await openTurnBody(sealer, latestTurn)).state,
        epoch: int8ToNumber(row.epoch),
        updatedAt: row.updated_at,
      };
      return row.user_id === null ? base : { ...base, userId: row.user_id };
    },

    async recordTurn(turn) {
      validateTurn(turn);
      const keyIndex = indexOf(turn.conversationKey);
      try {
        const inJournal = await useJournal();
        const fast = inJournal
          ? await appendInOneStatement(turn)
          : await recordInOneStatement(turn, keyIndex);
        if (fast !== 'retry') return fast;
        const recorded = await inTransaction(ctx.db, async (trx) => {
          const now = new Date(ctx.clock());
          const conversation = await lockOrCreate(trx, turn, keyIndex, now);
          if (turn.epoch !== undefined && turn.epoch < conversation.epoch) {
            throw new StaleEpochError(conversation.id, turn.epoch, conversation.epoch);
          }
          const insert = inJournal ? insertJournalRow : insertTurnRow;
          if ((await insert(trx, conversation.id, turn, now)) === 'duplicate') {
            // Undo the conversation this turn may have created; a duplicate changes nothing.
            throw new DuplicateTurn();
          }
          const row = trx.updateTable('conversations').where('id', '=', conversation.id);
          // A new row holds this turn's state and epoch already.
          if (!conversation.created && !inJournal) {
            await row
              .set({
                state: await sealer.sealJson(
                  turn.state,
                  fieldAad(CONVERSATIONS, 'state', conversation.id),
                  'state',
                ),
                ...(turn.epoch === undefined ? {} : { epoch: turn.epoch }),
                codec: sealer.codec.id,
                updated_at: now,
              })
              .execute();
          } else if (!conversation.created && turn.epoch !== undefined && turn.epoch > conversation.epoch) {
            // A journal turn holds the state; the row only takes a newer epoch, as a claim would.
            await row.set({ epoch: turn.epoch }).execute();
          }
          remember(turn.conversationKey, conversation.id);
          return 'recorded' as const;
        });
        return recorded;
      } catch (error) {
        if (error instanceof DuplicateTurn) return 'duplicate';
        if (sqlStateOf(error) === SqlState.ForeignKeyViolation) {
          throw new UnknownUserError(turn.userId, { cause: error });
        }
        throw error;
      }
    },

    hasProcessed(idempotencyId) {
      return processed(idempotencyIndexOf(idempotencyId));
    },

    async processedIds(conversationKey) {
      const [legacy, journal] = await Promise.all([
        inboundRowsOf(conversationKey)
          .select('idempotency_index')
          .limit(MAX_PROCESSED_IDS + 1)
          .execute(),
        turnsOf(conversationKey)
          .select('idempotency_index')
          .limit(MAX_PROCESSED_IDS + 1)
          .execute(),
      ]);
      return new ProcessedIds(
        [...legacy, ...journal].map((row) => row.idempotency_index),
        idempotencyIndexOf,
        MAX_PROCESSED_IDS,
      );
    },

    async repliesTo(idempotencyId) {
      const index = idempotencyIndexOf(idempotencyId);
      const turn = await ctx.db
        .selectFrom('turns')
        .select(['idempotency_index', 'body'])
        .where('idempotency_index', '=', index)
        .executeTakeFirst();
      if (turn !== undefined) {
        const { replies } = await openTurnBody(sealer, turn);
        return replies.map(({ idempotencyId: id, content, sentAt }) => ({ id, content, sentAt }));
      }
      const inbound = await ctx.db
        .selectFrom('messages')
        .select(['id', 'replies'])
        .where('idempotency_index', '=', index)
        .where('direction', '=', 'inbound')
        .executeTakeFirst();
      if (inbound?.replies) {
        const replies = await openReplies(sealer, inbound);
        return replies.map(({ idempotencyId: id, content, sentAt }) => ({ id, content, sentAt }));
      }
      // Recorded before migration 0007 (its replies are rows of their own), or without replies.
      const rows = await ctx.db
        .selectFrom('messages')
        .select(['id', 'idempotency_id', 'content', 'sent_at'])
        .where('reply_to_index', '=', index)
        .orderBy('seq')
        .execute();
      return await Promise.all(
        rows.map(async (row) => ({
          id: await openIdempotencyId(sealer, row),
          content: await openContent(sealer, row),
          sentAt: row.sent_at.getTime(),
        })),
      );
    },

    async turnLog(conversationKey) {
      const [legacy, journal] = await Promise.all([
        inboundRowsOf(conversationKey)
          .select(['id', 'seq', 'idempotency_id', 'epoch', 'writer', 'created_at'])
          .execute(),
        turnsOf(conversationKey)
          .select(['seq', 'idempotency_index', 'body', 'epoch', 'writer', 'created_at'])
          .execute(),
      ]);
      const entry = (
        row: { seq: Int8Read; epoch: Int8Read | null; writer: string | null; created_at: Date },
        idempotencyId: string,
      ): TurnLogEntry => ({
        seq: int8ToNumber(row.seq),
        idempotencyId,
        epoch: row.epoch === null ? undefined : int8ToNumber(row.epoch),
        writer: row.writer ?? undefined,
        recordedAt: row.created_at,
      });
      const entries = await Promise.all([
        ...legacy.map(async (row) => entry(row, await openIdempotencyId(sealer, row))),
        ...journal.map(async (row) => entry(row, (await openTurnBody(sealer, row)).idempotencyId)),
      ]);
      // Both tables number their rows from one sequence (migration 0009): one order.
      return entries.sort((a, b) => a.seq - b.seq);
    },
  };
}

function validateTurn(turn: Turn): void {
  requireNonEmpty('conversationKey', turn.conversationKey);
  requireNonEmpty('channel', turn.channel);
  requireUuid('userId', turn.userId);
  requireNonEmpty('inbound.idempotencyId', turn.inbound.idempotencyId);
  requireTimestamp('inbound.sentAt', turn.inbound.sentAt);
  const ids = new Set([turn.inbound.idempotencyId]);
  for (const [i, reply] of turn.outbound.entries()) {
    requireNonEmpty(`outbound[${i}].id`, reply.id);
    requireTimestamp(`outbound[${i}].sentAt`, reply.sentAt);
    if (ids.has(reply.id))
      throw new InvalidValueError(`outbound[${i}].id`, `${reply.id} is used twice in the turn`);
    ids.add(reply.id);
  }
  if (turn.writer !== undefined) requireNonEmpty('writer', turn.writer);
  if (turn.epoch !== undefined && !(Number.isSafeInteger(turn.epoch) && turn.epoch >= 0)) {
    throw new InvalidValueError('epoch', `expected a non-negative integer, got ${String(turn.epoch)}`);
  }
}
