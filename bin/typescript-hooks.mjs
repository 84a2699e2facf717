// Module hooks that run Parley's TypeScript sources (and plugins' TypeScript handlers) in Node, each file
// transformed by esbuild as it is imported. `bin/parley.js` registers them, and so does each inference
// worker thread (`models/serve/worker-entry.mjs`): workers do not inherit the main thread's hooks.
//
// Why not tsx, which the tests and benchmarks use: tsx transforms with esbuild's `keepNames`, which
// wraps every function a module creates in a call that defines its `name`, each time it is created.
// A plain transform keeps names anyway (nothing is renamed without bundling or minifying). Measured with
// one cluster node under load, paired: the node's CPU a message 156 -> 142 µs, 4,027 -> 4,253 msg/s.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const TYPESCRIPT = /\.(?:ts|mts)$/;
const RELATIVE = /^(?:\.{1,2}\/|\/|file:)/;

/** The sources import each other as `./module.js` (NodeNext): the file is `./module.ts`. */
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !RELATIVE.test(specifier) || !specifier.endsWith('.js')) {
      throw error;
    }
    return nextResolve(`${specifier.slice(0, -'.js'.length)}.ts`, context);
  }
}

export async function load(url, context, nextLoad) {
  // A plugin reloaded after a change is imported with a query (`handler.ts?v=...`); the path has none.
  const path = url.startsWith('file:') ? fileURLToPath(url) : undefined;
  if (path === undefined || !TYPESCRIPT.test(path)) return nextLoad(url, context);
  const { code } = await transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcemap: 'inline',
    sourcefile: path,
    // As tsconfig.json: type-only imports are marked `import type`, so every other import is kept.
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
  });
  return { format: 'module', source: code, shortCircuit: true };
}
