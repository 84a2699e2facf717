import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assignShards } from '../internal.js';

const owners = (shards: number, nodes: readonly string[]): Map<number, string> => {
  const owner = new Map<number, string>();
  for (const node of nodes) for (const shard of assignShards(shards, nodes, node)) owner.set(shard, node);
  return owner;
};

describe('cluster - shard assignment', () => {
  it('shard assignment - every shard has exactly one owner, and no node more than ceil(shards / nodes)', () => {
    for (const [shards, nodes] of [
      [128, ['a', 'b', 'c']],
      [32, ['core-0', 'core-1', 'core-2']],
      [7, ['x', 'y']],
      [1, ['only']],
      [3, ['n1', 'n2', 'n3', 'n4', 'n5']],
    ] as const) {
      const owner = owners(shards, nodes);
      assert.equal(owner.size, shards, `${shards} shards over ${nodes.length} nodes`);
      const total = nodes.reduce((sum, node) => sum + assignShards(shards, nodes, node).length, 0);
      assert.equal(total, shards, 'no shard assigned twice');
      for (const node of nodes) {
        assert.ok(assignShards(shards, nodes, node).length <= Math.ceil(shards / nodes.length));
      }
    }
  });

  it('shard assignment - the same answer whatever the order of the node list; none for an unknown node', () => {
    assert.deepEqual(assignShards(64, ['a', 'b', 'c'], 'b'), assignShards(64, ['c', 'a', 'b', 'a'], 'b'));
    assert.deepEqual(assignShards(64, ['a', 'b'], 'z'), []);
  });

  it('shard assignment - a node joining takes shards from the others and moves few of the rest', () => {
    const before = owners(128, ['a', 'b', 'c']);
    const after = owners(128, ['a', 'b', 'c', 'd']);
    let moved = 0;
    for (const [shard, node] of after) if (node !== 'd' && before.get(shard) !== node) moved++;
    const toD = [...after.values()].filter((node) => node === 'd').length;
    assert.equal(toD, 32);
    assert.ok(moved <= 16, `only ${moved} shards moved between the old nodes`);
  });
});
