import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidOptionsError,
  SimulatedClock,
  compileActorSystemOptions,
  compileEntityDefinition,
  defaultSupervision,
  parseDuration,
  systemClock,
  type Duration,
} from './internal.js';

describe('options - durations', () => {
  it('turns numbers and unit strings into milliseconds', () => {
    const cases: [Duration, number][] = [
      [250, 250],
      [0, 0],
      ['250ms', 250],
      ['1.5s', 1500],
      ['5m', 300_000],
      ['1h', 3_600_000],
    ];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, String(input));
  });

  it('rejects malformed, negative and non-finite durations, naming the option', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5', '5 s', '-5s', '5d', 's']) {
      assert.throws(
        () => parseDuration(bad as Duration, 'askTimeout'),
        (error: unknown) =>
          error instanceof InvalidOptionsError && /^Invalid askTimeout:/.test(error.message),
        String(bad),
      );
    }
  });
});

describe('options - actor system', () => {
  it('applies the documented defaults', () => {
    const compiled = compileActorSystemOptions();
    assert.equal(compiled.name, 'parley');
    assert.equal(compiled.clock, systemClock);
    assert.equal(compiled.transport.name, 'in-process');
    assert.equal(compiled.mailboxCapacity, 1000);
    assert.equal(compiled.askTimeoutMs, 5000);
    assert.equal(compiled.supervision, defaultSupervision);
    assert.equal(compiled.throughput, 1000);
  });

  it('compiles what is given and rejects what is invalid', () => {
    const clock = new SimulatedClock();
    const compiled = compileActorSystemOptions({ name: 'n', clock, askTimeout: '2m', mailboxCapacity: 5 });
    assert.equal(compiled.askTimeoutMs, 120_000);
    assert.equal(compiled.clock, clock);
    assert.throws(() => compileActorSystemOptions({ mailboxCapacity: 0 }), InvalidOptionsError);
    assert.throws(() => compileActorSystemOptions({ askTimeout: 0 }), InvalidOptionsError);
    assert.throws(() => compileActorSystemOptions({ throughput: 1.5 }), InvalidOptionsError);
    assert.throws(
      () => compileActorSystemOptions({ supervision: { type: 'restart', backoff: { jitter: 2 } } }),
      InvalidOptionsError,
    );
  });

  it('compiles entity definitions: idle timeout default 5m, inherited capacity and supervision', () => {
    const definition = { create: () => ({ receive: () => {} }), initialState: () => 0 };
    const compiled = compileEntityDefinition('k', definition, {
      mailboxCapacity: 7,
      supervision: { type: 'stop' },
    });
    assert.equal(compiled.idleTimeoutMs, 300_000);
    assert.equal(compiled.mailboxCapacity, 7);
    assert.deepEqual(compiled.supervision, { type: 'stop' });
    assert.throws(
      () => compileEntityDefinition('k', { ...definition, idleTimeout: 0 }, compiled),
      InvalidOptionsError,
    );
  });
});
