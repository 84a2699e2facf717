/**
 * The raw JetStream ceilings of `cluster.bench.ts`, as a process of its own: consumes the work-queue stream
 * `<stream>` through the durable consumers named on the command line and answers every message the way a
 * core node does (publish the answer to the subject in its `Parley-Reply-To` header through JetStream,
 * deduplicated, then ack), with no actors, model or store behind it.
 *
 *   node --import tsx test/bench/jetstream-echo.ts <nats-url> <stream> <consumer>...
 *
 * Prints `ready` once consuming; stops when stdin closes.
 */
import { connect, headers } from '@nats-io/transport-node';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { JetStreamPublisher } from '../../runtime/index.js';

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
console.log('ready');
process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(pulls.map((messages) => messages.close())).then(() =>
    nc.close().then(() => process.exit(0)),
  );
});
await Promise.all(
  pulls.map(async (messages) => {
    for await (const msg of messages) answer(msg);
  }),
);
