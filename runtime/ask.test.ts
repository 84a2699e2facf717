import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createActorSystem, type ActorRef, type Ask, type AskReply, type ReplyOf } from './internal.js';

/** Compile-time equality: `Expect<Equal<A, B>>` fails type-checking unless A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

type Message =
  | { readonly type: 'note'; readonly text: string }
  | ({ readonly type: 'count' } & Ask<number>)
  | ({ readonly type: 'lookup'; readonly key: string } & Ask<string | undefined>);

export type TypeChecks = [
  Expect<Equal<ReplyOf<{ type: 'count' } & Ask<number>>, number>>,
  Expect<Equal<ReplyOf<{ type: 'note' }>, unknown>>,
  Expect<Equal<AskReply<Message, { type: 'count' }>, number>>,
  Expect<Equal<AskReply<Message, { type: 'lookup'; key: string }>, string | undefined>>,
  Expect<Equal<AskReply<Message, { type: 'note'; text: string }>, unknown>>,
];

describe('ask - typed replies', () => {
  it('infers the reply type from an object literal and from a typed message', async () => {
    const system = createActorSystem();
    const ref: ActorRef<Message> = system.spawn<Message>({
      create: () => ({
        receive(message, ctx) {
          if (message.type === 'count') ctx.respond(message, 3);
          else if (message.type === 'lookup') ctx.respond(message, message.key === 'a' ? 'A' : undefined);
        },
      }),
    });
    const count: number = await ref.ask({ type: 'count' });
    const lookup: string | undefined = await ref.ask({ type: 'lookup', key: 'a' });
    const typed: Message & { type: 'count' } = { type: 'count' };
    const again: number = await ref.ask(typed);
    assert.deepEqual([count, lookup, again], [3, 'A', 3]);

    const wide: ActorRef<unknown> = ref;
    assert.equal(wide.path, ref.path);
    await system.shutdown();
  });
});
