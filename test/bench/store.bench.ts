/**
 * Store benchmark: Postgres CPU a recorded turn, by how many turns go in one statement, with the append
 * function planned as migration 0009 left it (Postgres chooses at each call between a generic and a custom
 * plan) and as migration 0010 keeps it (one generic plan a connection). Run with `make bench-store`
 * (= `npm run bench:store`); needs the Postgres of the tests. Figures go to docs/benchmarks.md ("Store").
 *
 * Method: two databases, one with 0010 undone; 64 conversations with a turn each. A row is `batch` turns
 * recorded at once (`recordTurn` calls made together go in one statement), again and again; the two
 * databases take turns in slices, the order reversed each round. CPU is read from `/proc` (Linux) for the
 * Postgres backends serving each database, so it is the statements' own, without the commit's WAL writer.
 */
import { cpus } from 'node:os';
import type { Kysely } from 'kysely';
import { createStore, type Store } from '../../store/index.js';
import { databaseOf } from '../../store/internal.js';
import { down as undoGenericPlan } from '../../store/migrations/0010_generic_append_plan.js';
import { createTestDatabase, type TestDatabase } from '../testkit/index.js';
import { pidsOf, processCpuSeconds } from './process-cpu.js';

const CONVERSATIONS = 64;
const BATCHES = [1, 4, 8, 23, 64];
/** Turns a slice records, whatever its batch size. */
const TURNS_A_SLICE = Number(process.env.PARLEY_BENCH_TURNS ?? '3000');
const ROUNDS = 4;
/** CPU seconds used so far by the Postgres backends serving `database`. */
function backendCpuSeconds(database: string): number {
  // A backend's title names its database: `postgres: 15/main: <user> <database> <client> <state>`.
  const backends = pidsOf('postgres', ([title]) => title?.includes(` ${database} `) === true);
  return backends.reduce((seconds, pid) => seconds + processCpuSeconds(pid), 0);
}

interface Side {
  readonly name: string;
  readonly database: TestDatabase;
  readonly store: Store;
  readonly userIds: string[];
  /** By batch size: turns recorded, CPU seconds, wall seconds. */
  readonly totals: Map<number, { turns: number; cpu: number; wall: number }>;
}

let sequence = 0;

/** Records `batch` turns at once (one statement), `turns / batch` times. */
async function slice(side: Side, batch: number, turns: number): Promise<void> {
  const statements = Math.max(1, Math.round(turns / batch));
  const cpuBefore = backendCpuSeconds(side.database.name);
  const started = performance.now();
  for (let s = 0; s < statements; s++) {
    await Promise.all(
      Array.from({ length: batch }, (_, c) => side.store.conversations.recordTurn(turnOf(side, c))),
    );
  }
  const total = side.totals.get(batch) ?? { turns: 0, cpu: 0, wall: 0 };
  total.turns += statements * batch;
  total.cpu += backendCpuSeconds(side.database.name) - cpuBefore;
  total.wall += (performance.now() - started) / 1000;
  side.totals.set(batch, total);
}

function turnOf(side: Side, c: number) {
  const n = sequence++;
  return {
    conversationKey: `web:bench-${c}`,
    channel: 'web',
    userId: side.userIds[c]!,
    state: { turns: n, lastIntent: 'time', users: { [`u${c}`]: side.userIds[c]! } },
    inbound: {
      idempotencyId: `web:bench-${c}:${n}`,
      content: { type: 'text', text: 'what time is it' },
      sentAt: Date.now(),
    },
    outbound: [
      { id: `reply-${n}`, content: { type: 'text', text: 'It is 14:05 (UTC).' }, sentAt: Date.now() },
    ],
    epoch: 1,
    writer: 'bench',
  };
}

async function openSide(name: string, prepare?: (store: Store) => Promise<void>): Promise<Side> {
  const database = await createTestDatabase();
  const store = await createStore({ databaseUrl: database.url });
  await prepare?.(store);
  const userIds: string[] = [];
  for (let c = 0; c < CONVERSATIONS; c++) {
    userIds.push((await store.users.upsert({ channel: 'web', platformUserId: `bench-${c}` })).id);
  }
  const side: Side = { name, database, store, userIds, totals: new Map() };
  // Every conversation exists, and the store knows its id: from here a turn is one append.
  for (let c = 0; c < CONVERSATIONS; c++) await side.store.conversations.recordTurn(turnOf(side, c));
  return side;
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `node ${process.version}, ${cpu[0]?.model ?? 'unknown CPU'} x${cpu.length}; ${CONVERSATIONS} conversations, ` +
      `${TURNS_A_SLICE} turns a slice, ${ROUNDS} rounds`,
  );
  const sides = [
    await openSide('planned at each call (0009)', (store) =>
      // Migrations take the database untyped, as the migrator hands it to them.
      undoGenericPlan(databaseOf(store) as unknown as Kysely<unknown>),
    ),
    await openSide('one plan a connection (0010)'),
  ];
  try {
    for (const batch of BATCHES) {
      for (const side of sides) await slice(side, batch, TURNS_A_SLICE / 4); // warm-up, not counted
      for (const side of sides) side.totals.delete(batch);
      for (let round = 0; round < ROUNDS; round++) {
        for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
          await slice(side, batch, TURNS_A_SLICE);
        }
      }
    }
  } finally {
    for (const side of sides) {
      await side.store.close();
      await side.database[Symbol.asyncDispose]();
    }
  }
  const [before, after] = sides as [Side, Side];
  const perTurn = (side: Side, batch: number, what: 'cpu' | 'wall'): number => {
    const total = side.totals.get(batch)!;
    return (total[what] / total.turns) * 1e6;
  };
  console.log('');
  console.log(
    `| turns a statement | Postgres CPU µs a turn, ${before.name} | ${after.name} | change | ` +
      'wall µs a turn, before / after |',
  );
  console.log('|---:|---:|---:|---:|---|');
  for (const batch of BATCHES) {
    const [a, b] = [perTurn(before, batch, 'cpu'), perTurn(after, batch, 'cpu')];
    console.log(
      `| ${batch} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(((b - a) / a) * 100).toFixed(0)}% | ` +
        `${perTurn(before, batch, 'wall').toFixed(0)} / ${perTurn(after, batch, 'wall').toFixed(0)} |`,
    );
  }
}

await main();
