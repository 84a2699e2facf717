import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ProcessedIds } from './processed-ids.js';

/** A stand-in for the blind index: any uniform hash of the id will do for the set. */
const indexOf = (id: string): Uint8Array => createHash('sha256').update(id).digest();

describe('ProcessedIds', () => {
  it('processed ids - knows the loaded and added ids, and no others', () => {
    const ids = new ProcessedIds(['a', 'b'].map(indexOf), indexOf, 100);
    assert.equal(ids.mayHave('a'), true);
    assert.equal(ids.mayHave('b'), true);
    assert.equal(ids.mayHave('c'), false);
    ids.add('c');
    assert.equal(ids.mayHave('c'), true);
    const unknown = Array.from({ length: 1000 }, (_, i) => `new:${i}`).filter((id) => ids.mayHave(id));
    assert.deepEqual(unknown, [], 'no fingerprint collision among 1,000 new ids');
  });

  it('processed ids - past its limit it answers "maybe" for every id, so the store is asked', () => {
    const ids = new ProcessedIds(['a', 'b'].map(indexOf), indexOf, 3);
    ids.add('c');
    assert.equal(ids.mayHave('d'), false);
    ids.add('d');
    assert.equal(ids.mayHave('never seen'), true);
    assert.equal(new ProcessedIds(['a', 'b', 'c', 'd'].map(indexOf), indexOf, 3).mayHave('e'), true);
  });
});
