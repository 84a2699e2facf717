/**
 * The raw JetStream ceilings of `cluster.bench.ts`, as a process of its own: consumes the work-queue stream
 * `<stream>` through the durable consumers named on the command line and answers every message the way a
 * core node does (publish the answer to the subject in its `Parley-Reply-To` header through JetStream,
 * deduplicated, then ack), with no actors, model or store behind it.
 *
 *   node --import ./bin/register.mjs test/bench/jetstream-echo.ts <nats-url> <stream> <consumer>...
 *
 * With `ECHO_DATABASE_URL` set, it is the durable echo: before answering, each message is inserted into a
 * Postgres table keyed by its `Nats-Msg-Id` (`bench_echo_messages`, made if missing). Messages that arrive
 * while two inserts run go together in the next, one statement and one commit, as Parley groups its turns.
 * It is the least a service can do that stores every message before it answers.
 *
 * Prints `ready` once consuming; stops when stdin closes.
 */
import pg from 'pg';
import { connect, headers } from '@nats-io/transport-node';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { JetStreamPublisher } from '../../runtime/index.js';
import { coalesced } from '../../store/coalesced.js';

const [url, stream, ...consumers] = process.argv.slice(2);
if (!url || !stream || consumers.length === 0) {
  console.error('usage: jetstream-echo.ts <nats-url> <stream> <consumer>...');
  process.exit(2);
}
// As Parley's connections do (app/cluster.ts): no stack capture per request, a cost the ceiling should not pay.
const nc = await connect({ servers: url, noAsyncTraces: true });
const js = jetstream(nc);
// As a core node publishes its answers: acknowledgements matched on one inbox, not a request each.
const publisher = new JetStreamPublisher(nc);

/** Inserts `batch` in one statement, prepared once per batch size on each connection. */
function insertAll(pool: pg.Pool, batch: readonly JsMsg[]): Promise<unknown> {
  const rows = batch.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`).join(', ');
  return pool.query({
    name: `echo_insert_${batch.length}`,
    text: `insert into bench_echo_messages (id, subject, body) values ${rows} on conflict (id) do nothing`,
    values: batch.flatMap((msg) => [msg.headers?.get('Nats-Msg-Id') ?? `${msg.seq}`, msg.subject, msg.data]),
  });
}

/** Inserts each message, then answers it, grouped as Parley groups its turns (`coalesced`). */
function durably(pool: pg.Pool, then: (msg: JsMsg) => void): (msg: JsMsg) => void {
  const insert = coalesced(
    async (batch: JsMsg[]) => {
      await insertAll(pool, batch);
      return batch;
    },
    { maxBatch: 64, maxInFlight: 1 },
  );
  return (msg) => void insert(msg).then(then, () => msg.nak());
}

function answer(msg: JsMsg): void {
  const replyTo = msg.headers?.get('Parley-Reply-To') ?? '';
  const correlation = msg.headers?.get('Nats-Msg-Id') ?? '';
  const h = headers();
  h.set('Parley-Correlation', correlation);
  void publisher.publish(replyTo, msg.data, `${correlation}:answer`, h).then(
    () => msg.ack(),
    () => msg.nak(),
  );
}

const pulls = await Promise.all(
  consumers.map(async (name) => {
    const consumer = await js.consumers.get(stream, name);
    // As a core node pulls: as many as the consumer lets be pending.
    const { config } = await consumer.info();
    return consumer.consume({ max_messages: config.max_ack_pending ?? 1024 });
  }),
);
const databaseUrl = process.env.ECHO_DATABASE_URL;
const pool = databaseUrl ? new pg.Pool({ connectionString: databaseUrl, max: 2 }) : undefined;
await pool?.query(
  'create table if not exists bench_echo_messages (id text primary key, subject text not null, ' +
    'body bytea not null, recorded_at timestamptz not null default now())',
);
const handle = pool ? durably(pool, answer) : answer;
console.log('ready');
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(pulls.map((messages) => messages.close()))
    .then(() => Promise.all([nc.close(), pool?.end()]))
    .then(() => process.exit(0));
});
await Promise.all(
  pulls.map(async (messages) => {
    for await (const msg of messages) handle(msg);
  }),
);
