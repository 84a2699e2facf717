/**
 * The raw JetStream ceiling of `cluster.bench.ts`, as a process of its own: consumes the work-queue stream
 * `BENCH_IN` through the durable consumer `echo` and answers every message the way a core node does
 * (publish the answer to the subject in its `Parley-Reply-To` header through JetStream, deduplicated,
 * then ack), with no actors, model or store behind it.
 *
 *   node --import tsx test/bench/jetstream-echo.ts <nats-url>
 *
 * Prints `ready` once consuming; stops when stdin closes.
 */
import { connect, headers } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';

const url = process.argv[2];
if (!url) {
  console.error('usage: jetstream-echo.ts <nats-url>');
  process.exit(2);
}
// As Parley's connections do (app/cluster.ts): no stack capture per request, a cost the ceiling should not pay.
const nc = await connect({ servers: url, noAsyncTraces: true });
const js = jetstream(nc);
const consumer = await js.consumers.get('BENCH_IN', 'echo');
const messages = await consumer.consume({ max_messages: 1024 });
console.log('ready');
process.stdin.resume();
process.stdin.on('end', () => {
  void messages.close().then(() => nc.close().then(() => process.exit(0)));
});
for await (const msg of messages) {
  const replyTo = msg.headers?.get('Parley-Reply-To') ?? '';
  const correlation = msg.headers?.get('Nats-Msg-Id') ?? '';
  const h = headers();
  h.set('Parley-Correlation', correlation);
  void js.publish(replyTo, msg.data, { msgID: `${correlation}:answer`, headers: h }).then(
    () => msg.ack(),
    () => msg.nak(),
  );
}
