import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HOOKS = fileURLToPath(new URL('../bin/typescript-hooks.mjs', import.meta.url));

/** Runs `script` (an ES module) in a fresh Node with only `bin/typescript-hooks.mjs` registered. */
function runWithHooks(script: string): { status: number | null; stdout: string; stderr: string } {
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`file://${HOOKS}`)});`;
  const result = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', script],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('TypeScript module hooks (bin/parley.js)', () => {
  it('load a TypeScript module, its `.js` imports of TypeScript files, and a reload by query', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-hooks-'));
    try {
      await writeFile(join(dir, 'shape.ts'), 'export interface Shape { readonly sides: number }\n');
      await writeFile(
        join(dir, 'square.ts'),
        [
          "import type { Shape } from './shape.js';",
          "import { sides } from './sides.js';",
          'export const square: Shape = { sides };',
          'export class Named { readonly kind: string = "named"; }',
        ].join('\n'),
      );
      await writeFile(join(dir, 'sides.ts'), 'export const sides: number = 4;\n');
      await writeFile(join(dir, 'broken.ts'), 'export const = ;\n');
      const url = (name: string) => JSON.stringify(`file://${join(dir, name)}`);
      const { status, stdout, stderr } = runWithHooks(`
        const first = await import(${url('square.ts')});
        const again = await import(${url('square.ts')} + '?v=2');
        let broken;
        try { await import(${url('broken.ts')}); } catch (error) { broken = error.message; }
        console.log(JSON.stringify({
          sides: first.square.sides, reloaded: first !== again && again.square.sides,
          name: first.Named.name, kind: new first.Named().kind, broken,
        }));
      `);
      assert.equal(status, 0, stderr);
      const seen = JSON.parse(stdout) as Record<string, unknown>;
      assert.deepEqual(
        { ...seen, broken: undefined },
        { sides: 4, reloaded: 4, name: 'Named', kind: 'named', broken: undefined },
      );
      assert.match(String(seen.broken), /broken\.ts.*Expected identifier/s);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
