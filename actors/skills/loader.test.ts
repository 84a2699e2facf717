import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlugins } from './loader.js';
import { PluginDirectoryError, PluginErrorCode, PluginManifestError } from './errors.js';

const IMPORTED = '__parleyLoaderTestImported';

function manifest(
  name: string,
  intents: string[] = [`${name}.run`],
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify(
    {
      name,
      version: '1.0.0',
      description: `The ${name} plugin`,
      intents: intents.map((intent) => ({
        name: intent,
        description: `Run ${intent}`,
        examples: [`run ${intent}`],
      })),
      ...extra,
    },
    null,
    2,
  );
}

function handler(intents: string[]): string {
  const entries = intents.map((intent) => `  '${intent}': () => ({ text: '${intent} ran' }),`).join('\n');
  return `export default {\n${entries}\n};\n`;
}

async function writePlugin(root: string, folder: string, files: Record<string, string>): Promise<void> {
  await mkdir(join(root, folder), { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(root, folder, file), content);
}

describe('plugin loader', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'parley-plugins-'));
    // Handlers are ES modules, as in the repository.
    await writeFile(join(root, 'package.json'), '{ "type": "module" }');
    await writePlugin(root, 'alpha', {
      'manifest.json': manifest('alpha'),
      'handler.ts': handler(['alpha.run']),
    });
    await writePlugin(root, 'beta', {
      'manifest.json': manifest('beta', ['beta.run', 'beta.stop']),
      'handler.js': handler(['beta.run', 'beta.stop']),
    });
    await writePlugin(root, 'bad-json', {
      'manifest.json': '{\n  "name": "bad-json",\n  "version": "1.0.0",\n}\n',
      'handler.ts': `globalThis.${IMPORTED} = true;\nexport default {};\n`,
    });
    await writePlugin(root, 'bad-schema', {
      'manifest.json': JSON.stringify({
        name: 'bad-schema',
        version: 'one',
        description: 'x',
        intents: [{ name: 'other.run', description: 'x', examples: [] }],
      }),
      'handler.ts': `globalThis.${IMPORTED} = true;\nexport default {};\n`,
    });
    await writePlugin(root, 'bad-regex', {
      'manifest.json': JSON.stringify({
        name: 'bad-regex',
        version: '1.0.0',
        description: 'x',
        intents: [
          { name: 'bad-regex.run', description: 'x', examples: ['x'], patterns: ['^ok$', '(unclosed'] },
        ],
      }),
      'handler.ts': handler(['bad-regex.run']),
    });
    await writePlugin(root, 'wrong-name', {
      'manifest.json': manifest('right-name'),
      'handler.ts': handler([]),
    });
    await writePlugin(root, 'no-handler', { 'manifest.json': manifest('no-handler') });
    await writePlugin(root, 'no-manifest', { 'handler.ts': handler([]) });
    await writePlugin(root, 'half-handler', {
      'manifest.json': manifest('half-handler', ['half-handler.one', 'half-handler.two']),
      'handler.ts': handler(['half-handler.one']),
    });
    await writePlugin(root, 'extra-handler', {
      'manifest.json': manifest('extra-handler'),
      'handler.ts': handler(['extra-handler.run', 'extra-handler.typo']),
    });
    await writePlugin(root, 'throws', {
      'manifest.json': manifest('throws'),
      'handler.ts': "throw new Error('boom at import');\n",
    });
    await writePlugin(root, 'not-object', {
      'manifest.json': manifest('not-object'),
      'handler.ts': 'export default 42;\n',
    });
    // Sorted after 'alpha', so it is the later declaration of 'alpha.run'.
    await writePlugin(root, 'zeta', {
      'manifest.json': JSON.stringify({
        name: 'zeta',
        version: '1.0.0',
        description: 'x',
        intents: [{ name: 'zeta.run', description: 'x', examples: ['x'] }],
      }),
      'handler.ts': handler(['zeta.run']),
    });
    await writePlugin(root, 'dup', {
      'manifest.json': manifest('dup'),
      'handler.ts': handler(['dup.run']),
    });
    await writePlugin(root, '_ignored', { 'notes.txt': 'not a plugin' });
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('loader - loads good plugins and reports every broken one with its path and reason', async () => {
    const { plugins, failures } = await loadPlugins(root);
    assert.deepEqual(
      plugins.map((plugin) => plugin.name),
      ['alpha', 'beta', 'dup', 'zeta'],
    );
    const byPlugin = new Map(failures.map((failure) => [failure.plugin, failure]));
    assert.deepEqual([...byPlugin.keys()].sort(), [
      'bad-json',
      'bad-regex',
      'bad-schema',
      'extra-handler',
      'half-handler',
      'no-handler',
      'no-manifest',
      'not-object',
      'throws',
      'wrong-name',
    ]);
    for (const failure of failures) {
      assert.ok(failure.path.startsWith(join(root, failure.plugin)), failure.path);
      assert.ok(failure.reason.length > 0);
      assert.ok(failure.error.message.includes(failure.path));
    }

    const badJson = byPlugin.get('bad-json');
    assert.equal(badJson?.error.code, PluginErrorCode.ManifestSyntax);
    assert.equal(badJson?.path, join(root, 'bad-json', 'manifest.json'));
    assert.ok(badJson?.error instanceof PluginManifestError);
    assert.deepEqual(badJson.error.position, { line: 4, column: 1 });
    assert.match(badJson.reason, /not valid JSON at line 4, column 1/);

    const badSchema = byPlugin.get('bad-schema');
    assert.equal(badSchema?.error.code, PluginErrorCode.ManifestInvalid);
    assert.match(badSchema.reason, /version: a semantic version/);
    assert.match(badSchema.reason, /intents\[0\]\.name: must start with the plugin name/);
    assert.match(badSchema.reason, /intents\[0\]\.examples: give at least one example/);

    assert.match(
      byPlugin.get('bad-regex')?.reason ?? '',
      /intents\[0\]\.patterns\[1\]: Invalid regular expression/,
    );
    assert.match(byPlugin.get('wrong-name')?.reason ?? '', /name: must equal the folder name 'wrong-name'/);

    const noHandler = byPlugin.get('no-handler');
    assert.equal(noHandler?.error.code, PluginErrorCode.HandlerMissing);
    assert.equal(noHandler.path, join(root, 'no-handler', 'handler.ts'));

    assert.equal(byPlugin.get('no-manifest')?.error.code, PluginErrorCode.ManifestMissing);

    const half = byPlugin.get('half-handler');
    assert.equal(half?.error.code, PluginErrorCode.HandlerInvalid);
    assert.equal(half.path, join(root, 'half-handler', 'handler.ts'));
    assert.match(half.reason, /no handler function for declared intent\(s\) 'half-handler\.two'/);
    assert.match(byPlugin.get('extra-handler')?.reason ?? '', /'extra-handler\.typo' not declared/);
    assert.equal(byPlugin.get('not-object')?.error.code, PluginErrorCode.HandlerInvalid);

    const throws = byPlugin.get('throws');
    assert.equal(throws?.error.code, PluginErrorCode.HandlerImportFailed);
    assert.match(throws.reason, /boom at import/);
    assert.ok(throws.error.cause instanceof Error);
  });

  it('loader - validates the manifest before importing any of the plugin code', async () => {
    await loadPlugins(root);
    assert.equal((globalThis as Record<string, unknown>)[IMPORTED], undefined);
  });

  it('loader - a later plugin declaring an intent already loaded fails as a duplicate', async () => {
    const first = await loadPlugins(root);
    const second = await mkdtemp(join(tmpdir(), 'parley-plugins-more-'));
    try {
      await writeFile(join(second, 'package.json'), '{ "type": "module" }');
      await writePlugin(second, 'alpha', {
        'manifest.json': manifest('alpha', ['alpha.run', 'alpha.more']),
        'handler.ts': handler(['alpha.run', 'alpha.more']),
      });
      await writePlugin(second, 'beta', {
        'manifest.json': manifest('beta', ['beta.new']),
        'handler.ts': handler(['beta.new']),
      });
      await writePlugin(second, 'gamma', {
        'manifest.json': manifest('gamma'),
        'handler.ts': handler(['gamma.run']),
      });
      const { plugins, failures } = await loadPlugins(second, { alreadyLoaded: first.plugins });
      assert.deepEqual(
        plugins.map((plugin) => plugin.name),
        ['gamma'],
      );
      const [alpha, beta] = failures;
      assert.equal(alpha?.error.code, PluginErrorCode.DuplicateIntent);
      assert.equal(alpha.path, join(second, 'alpha', 'manifest.json'));
      assert.match(alpha.reason, /intent 'alpha\.run' is already declared by plugin 'alpha'/);
      assert.equal(beta?.error.code, PluginErrorCode.DuplicatePlugin);
    } finally {
      await rm(second, { recursive: true, force: true });
    }
  });

  it('loader - fresh imports pick up a changed handler', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-plugins-fresh-'));
    try {
      await writeFile(join(dir, 'package.json'), '{ "type": "module" }');
      await writePlugin(dir, 'live', {
        'manifest.json': manifest('live'),
        'handler.ts': handler(['live.run']),
      });
      const before = await loadPlugins(dir);
      await writeFile(
        join(dir, 'live', 'handler.ts'),
        "export default { 'live.run': () => ({ text: 'v2' }) };\n",
      );
      const after = await loadPlugins(dir, { fresh: true });
      const run = (plugins: typeof before.plugins) => plugins[0]?.handlers['live.run'];
      assert.notEqual(run(before.plugins), run(after.plugins));
      assert.deepEqual(await run(after.plugins)?.({} as never, {} as never), { text: 'v2' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loader - a missing plugins directory is an error naming the directory', async () => {
    const missing = join(root, 'does-not-exist');
    await assert.rejects(loadPlugins(missing), (error: unknown) => {
      assert.ok(error instanceof PluginDirectoryError);
      assert.equal(error.dir, missing);
      return true;
    });
  });

  it('loader - a handler whose import never finishes is reported and skipped, the rest load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-plugins-hang-'));
    try {
      // Top-level await needs ES modules; outside the repo a folder says so with its own package.json.
      await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
      await writePlugin(dir, 'hangs', {
        'manifest.json': manifest('hangs'),
        'handler.ts':
          "await new Promise(() => {});\nexport default { 'hangs.run': () => ({ text: 'never' }) };\n",
      });
      await writePlugin(dir, 'fine', {
        'manifest.json': manifest('fine'),
        'handler.ts': handler(['fine.run']),
      });
      const { plugins, failures } = await loadPlugins(dir, { importTimeoutMs: 200 });
      assert.deepEqual(
        plugins.map((plugin) => plugin.name),
        ['fine'],
      );
      assert.equal(failures[0]?.plugin, 'hangs');
      assert.match(failures[0]?.reason ?? '', /did not finish within 200 ms/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
