import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDatabaseUnavailable } from './cluster.js';

describe('cluster wiring', () => {
  it('cluster wiring - a restarting Postgres is a passing failure, anywhere in the cause chain; a bug is not', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    assert.equal(isDatabaseUnavailable(new Error('turn failed', { cause: refused })), true);
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    assert.equal(
      isDatabaseUnavailable(new Error('actor failed', { cause: new Error('x', { cause: shutdown }) })),
      true,
    );
    assert.equal(
      isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')")),
      false,
    );
    assert.equal(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
  });
});
