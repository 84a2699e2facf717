import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidOptionsError, fnv1a32, shardOf } from './internal.js';

/** Reference FNV-1a over the UTF-8 bytes, the obvious (allocating) way. */
function referenceFnv(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

describe('sharding - shardOf', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  it('hashes the UTF-8 bytes of non-ASCII ids', () => {
    for (const text of ['é', 'ü日本', '👋 hi', 'telegram:💬:42', 'Ω'.repeat(50)]) {
      assert.equal(fnv1a32(text), referenceFnv(text), text);
    }
  });

  it('is stable: kind and id joined by a NUL byte, modulo the shard count', () => {
    assert.equal(
      shardOf('conversation', 'telegram:1:42', 128),
      referenceFnv('conversation\0telegram:1:42') % 128,
    );
    assert.equal(
      shardOf('conversation', 'telegram:1:42', 128),
      shardOf('conversation', 'telegram:1:42', 128),
    );
    assert.notEqual(
      shardOf('ab', 'c', 1 << 30),
      shardOf('a', 'bc', 1 << 30),
      'the separator keeps kind and id apart',
    );
    // Pinned: changing the function would move every entity of a running cluster.
    assert.equal(shardOf('conversation', 'web:alice', 128), referenceFnv('conversation\0web:alice') % 128);
    assert.equal(shardOf('conversation', 'a', 128), 105);
  });

  it('spreads 100,000 ids evenly over 128 shards', () => {
    const counts = new Array<number>(128).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const shard = shardOf('conversation', `telegram:7:${i}`, 128);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    const mean = 100_000 / 128;
    const chiSquare = counts.reduce((sum, count) => sum + (count - mean) ** 2 / mean, 0);
    // 127 degrees of freedom: the 99.9th percentile is about 181.
    assert.ok(chiSquare < 181, `chi-square ${chiSquare.toFixed(1)}`);
    assert.ok(Math.min(...counts) > mean * 0.85 && Math.max(...counts) < mean * 1.15, counts.join(','));
  });

  it('rejects a shard count that is not a positive integer', () => {
    assert.throws(() => shardOf('k', 'i', 0), InvalidOptionsError);
    assert.throws(() => shardOf('k', 'i', 1.5), InvalidOptionsError);
  });
});
