/**
 * Runtime benchmark: in-process tell throughput and ask round trips for 1, 1,000 and 100,000 actors.
 * Run with `npm run bench:runtime` (or `make bench-runtime`); prints one table. Figures go to
 * docs/benchmarks.md ("Runtime").
 *
 * Method: each scenario warms up (same code path, discarded), then is measured with
 * process.hrtime.bigint. Tells go round-robin over the actors in bursts of 1,000 (the system's default
 * throughput), yielding to the event loop between bursts, as a producer of a bounded mailbox must; the
 * clock stops when the last message has been handled. Asks run closed-loop: `concurrency` callers each
 * await their reply before asking again (round-robin over the actors); latency is per ask, from the call
 * to the settled promise, so with many callers it includes queueing behind the others.
 */
import { cpus } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  createActorSystem,
  type Actor,
  type ActorContext,
  type ActorRef,
  type ActorSystem,
  type Ask,
} from '../../runtime/index.js';

type BenchMessage = { readonly type: 'hit' } | ({ readonly type: 'ping'; readonly n: number } & Ask<number>);

/** Counts hits into a shared counter so the driver knows when everything was handled. */
class Counter implements Actor<BenchMessage> {
  constructor(private readonly tally: { handled: number }) {}

  receive(message: BenchMessage, ctx: ActorContext<BenchMessage>): void {
    if (message.type === 'hit') this.tally.handled++;
    else ctx.respond(message, message.n + 1);
  }
}

interface Row {
  readonly scenario: string;
  readonly actors: string;
  readonly concurrency: string;
  readonly messages: number;
  readonly perSecond: number;
  readonly p50Us?: number;
  readonly p99Us?: number;
}

const rows: Row[] = [];
const record = (row: Row): void => {
  rows.push(row);
};
const HIT: BenchMessage = { type: 'hit' };
/** Tells per event-loop turn: the system's default throughput, so a burst never outruns the drains. */
const BURST = 1000;

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function untilHandled(tally: { handled: number }, target: number): Promise<void> {
  while (tally.handled < target) await nextTurn();
}

/** Sends `total` tells round-robin over `refs`, `burst` at a time with a yield to the event loop between. */
async function tellRun(
  refs: readonly ActorRef<BenchMessage>[],
  tally: { handled: number },
  total: number,
  burst: number,
): Promise<number> {
  const start0 = tally.handled;
  const start = process.hrtime.bigint();
  let sent = 0;
  let index = 0;
  while (sent < total) {
    const end = Math.min(total, sent + burst);
    for (; sent < end; sent++) {
      (refs[index] as ActorRef<BenchMessage>).tell(HIT);
      if (++index === refs.length) index = 0;
    }
    await nextTurn();
  }
  await untilHandled(tally, start0 + total);
  return total / seconds(start);
}

async function benchTell(
  label: string,
  actors: string,
  refs: readonly ActorRef<BenchMessage>[],
  tally: { handled: number },
  total: number,
  burst: number,
): Promise<void> {
  await tellRun(refs, tally, Math.min(total, Math.max(refs.length * 2, total / 5)), burst);
  const perSecond = await tellRun(refs, tally, total, burst);
  record({ scenario: label, actors, concurrency: '-', messages: total, perSecond });
}

async function askRun(
  refs: readonly ActorRef<BenchMessage>[],
  total: number,
  concurrency: number,
  latencies: Float64Array | undefined,
): Promise<number> {
  let issued = 0;
  let next = 0;
  const caller = async (): Promise<void> => {
    for (;;) {
      const i = issued++;
      if (i >= total) return;
      const ref = refs[next] as ActorRef<BenchMessage>;
      if (++next === refs.length) next = 0;
      const t0 = process.hrtime.bigint();
      const reply = await ref.ask({ type: 'ping', n: i });
      if (latencies !== undefined) latencies[i] = Number(process.hrtime.bigint() - t0) / 1e3;
      if (reply !== i + 1) throw new Error(`wrong reply ${reply} to ${i}`);
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, caller));
  return total / seconds(start);
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

async function benchAsk(
  label: string,
  actors: string,
  refs: readonly ActorRef<BenchMessage>[],
  total: number,
  concurrency: number,
): Promise<void> {
  await askRun(refs, Math.max(concurrency * 2, Math.floor(total / 5)), concurrency, undefined);
  const latencies = new Float64Array(total);
  const perSecond = await askRun(refs, total, concurrency, latencies);
  latencies.sort();
  record({
    scenario: label,
    actors,
    concurrency: String(concurrency),
    messages: total,
    perSecond,
    p50Us: percentile(latencies, 0.5),
    p99Us: percentile(latencies, 0.99),
  });
}

function spawnMany(system: ActorSystem, count: number, tally: { handled: number }): ActorRef<BenchMessage>[] {
  const props = { create: () => new Counter(tally) };
  return Array.from({ length: count }, () => system.spawn<BenchMessage>(props));
}

function entities(system: ActorSystem, count: number, tally: { handled: number }): ActorRef<BenchMessage>[] {
  system.registerEntity<BenchMessage, null>('bench', {
    create: () => new Counter(tally),
    initialState: () => null,
  });
  return Array.from({ length: count }, (_, i) => system.entity<BenchMessage>('bench', `e-${i}`));
}

async function main(): Promise<void> {
  const startedAt = process.hrtime.bigint();
  const tally = { handled: 0 };

  {
    const system = createActorSystem({ name: 'bench-1' });
    const one = spawnMany(system, 1, tally);
    await benchTell('tell', '1 spawned', one, tally, 5_000_000, BURST);
    await benchAsk('ask', '1 spawned', one, 300_000, 1);
    await benchAsk('ask', '1 spawned', one, 500_000, 100);
    await system.shutdown();
  }
  {
    const system = createActorSystem({ name: 'bench-1k' });
    const many = spawnMany(system, 1_000, tally);
    await benchTell('tell', '1,000 spawned', many, tally, 5_000_000, BURST);
    await benchAsk('ask', '1,000 spawned', many, 1_000_000, 1_000);
    await system.shutdown();
  }
  {
    const system = createActorSystem({ name: 'bench-100k' });
    const spawnStart = process.hrtime.bigint();
    const many = spawnMany(system, 100_000, tally);
    await nextTurn();
    const spawnSeconds = seconds(spawnStart);
    record({
      scenario: 'spawn',
      actors: '100,000 spawned',
      concurrency: '-',
      messages: 100_000,
      perSecond: 100_000 / spawnSeconds,
    });
    await benchTell('tell', '100,000 spawned', many, tally, 3_000_000, BURST);
    await benchAsk('ask', '100,000 spawned', many, 1_000_000, 1_000);
    await system.shutdown();
  }
  {
    const system = createActorSystem({ name: 'bench-entities' });
    const refs = entities(system, 100_000, tally);
    const activationStart = process.hrtime.bigint();
    await tellRun(refs, tally, 100_000, BURST);
    record({
      scenario: 'activate',
      actors: '100,000 entities',
      concurrency: '-',
      messages: 100_000,
      perSecond: 100_000 / seconds(activationStart),
    });
    await benchTell('tell', '100,000 entities', refs, tally, 3_000_000, BURST);
    await benchAsk('ask', '100,000 entities', refs, 1_000_000, 1_000);
    await system.shutdown();
  }

  const cpu = cpus();
  console.log(
    `node ${process.version}, ${cpu[0]?.model ?? 'unknown CPU'} x${cpu.length}, ${process.platform}/${process.arch}`,
  );
  console.log('');
  console.log('| scenario | actors | concurrency | messages | msgs/s | p50 µs | p99 µs |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const fmt = (n: number | undefined): string => (n === undefined ? '-' : n.toFixed(1));
    console.log(
      `| ${row.scenario} | ${row.actors} | ${row.concurrency} | ${row.messages.toLocaleString('en-US')} | ${Math.round(row.perSecond).toLocaleString('en-US')} | ${fmt(row.p50Us)} | ${fmt(row.p99Us)} |`,
    );
  }
  console.log('');
  console.log(`total ${seconds(startedAt).toFixed(1)} s`);
}

await main();
