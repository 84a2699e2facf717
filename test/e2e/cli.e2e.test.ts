/** The `parley` command's own behaviour: help, version, and refusing bad configuration clearly. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PARLEY_BIN } from './parley-process.js';

function parley(args: readonly string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [PARLEY_BIN, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('cli', () => {
  it('cli - --help and --version', () => {
    const help = parley(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: parley/);
    assert.match(parley(['--version']).stdout, /^parley \d+\.\d+\.\d+/);
  });

  it('cli - a bad setting stops start-up with the key, its source and exit code 2', () => {
    const result = parley(['start'], { PARLEY_HTTP_PORT: 'eighty' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /http\.port \(PARLEY_HTTP_PORT\).*got "eighty"/);
  });

  it('cli - an unknown command or option is refused with usage', () => {
    const command = parley(['fly']);
    assert.equal(command.status, 2);
    assert.match(command.stderr, /unknown command 'fly'/);
    const option = parley(['--colour']);
    assert.equal(option.status, 2);
    assert.match(option.stderr, /Unknown option '--colour'/);
  });

  it('cli - a cluster role without NATS or Postgres is refused with what to set', () => {
    const result = parley(['start'], { PARLEY_ROLE: 'core' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /natsUrl .*set NATS_URL/);
    assert.match(result.stderr, /databaseUrl .*set DATABASE_URL/);
  });
});
