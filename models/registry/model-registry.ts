/**
 * Versioned intent models on disk. One folder per version, and a `current` file naming the version in
 * use; publishing and activating are atomic renames, so a reader never sees half a model.
 *
 * ```
 * <dir>/current                    "v3-1a2b3c4d"
 * <dir>/v3-1a2b3c4d/metadata.json  labels, feature options, threshold, data hash, metrics
 * <dir>/v3-1a2b3c4d/model.onnx     FP32
 * <dir>/v3-1a2b3c4d/model.int8.onnx
 * <dir>/v3-1a2b3c4d/weights.bin    canonical trained weights (re-export, byte-identity checks)
 * ```
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelRegistryError } from './errors.js';

/** What the registry records about a model version. */
export const modelMetadataSchema = z.object({
  version: z.string(),
  createdAt: z.string(),
  /** In-scope labels, in the model's output order (an explicit out-of-scope class is among them as `oos`). */
  labels: z.array(z.string()),
  features: z.object({
    buckets: z.number(),
    wordNgrams: z.number(),
    charNgrams: z.tuple([z.number(), z.number()]),
    version: z.number(),
  }),
  /** Below this top probability the input is out of scope. */
  threshold: z.number(),
  /** The explicit out-of-scope class, when the data had one. */
  outOfScopeLabel: z.string().optional(),
  /** sha256 of the training examples: the same data gives the same hash. */
  dataHash: z.string(),
  /** Where the examples came from (a file, or `plugins` for the installed skills). */
  source: z.string(),
  metrics: z.record(z.string(), z.number()),
  sizes: z.object({ fp32: z.number(), int8: z.number() }),
});
export type ModelMetadata = z.output<typeof modelMetadataSchema>;

export const ModelFiles = {
  metadata: 'metadata.json',
  fp32: 'model.onnx',
  int8: 'model.int8.onnx',
  weights: 'weights.bin',
} as const;

/** One published version with the paths of its files. */
export interface ModelEntry {
  readonly metadata: ModelMetadata;
  readonly dir: string;
  readonly fp32Path: string;
  readonly int8Path: string;
  readonly weightsPath: string;
}

export interface ModelToPublish {
  readonly metadata: Omit<ModelMetadata, 'version' | 'createdAt' | 'sizes'>;
  readonly fp32: Uint8Array;
  readonly int8: Uint8Array;
  readonly weights: Uint8Array;
}

export interface ModelRegistry {
  readonly dir: string;
  /** Every published version, oldest first. */
  list(): Promise<ModelEntry[]>;
  /** The version in use, or `undefined` when none was activated. */
  current(): Promise<ModelEntry | undefined>;
  get(version: string): Promise<ModelEntry>;
  /** Writes a new version (not yet in use) and resolves it. */
  publish(model: ModelToPublish, now?: Date): Promise<ModelEntry>;
  /** Makes `version` the one in use. */
  activate(version: string): Promise<void>;
}

const CURRENT = 'current';
const VERSION_PATTERN = /^v(\d+)-[0-9a-f]{8}$/;

export function openModelRegistry(dir: string): ModelRegistry {
  const entry = (version: string, metadata: ModelMetadata): ModelEntry => ({
    metadata,
    dir: join(dir, version),
    fp32Path: join(dir, version, ModelFiles.fp32),
    int8Path: join(dir, version, ModelFiles.int8),
    weightsPath: join(dir, version, ModelFiles.weights),
  });

  async function versions(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ModelRegistryError(dir, `cannot read the model registry: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return names.filter((name) => VERSION_PATTERN.test(name)).sort((a, b) => sequenceOf(a) - sequenceOf(b));
  }

  async function get(version: string): Promise<ModelEntry> {
    const file = join(dir, version, ModelFiles.metadata);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ModelRegistryError(dir, `model version ${version} not found (${file})`, { cause: error });
    }
    const parsed = modelMetadataSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new ModelRegistryError(dir, `${file}: not valid model metadata: ${parsed.error.message}`);
    }
    return entry(version, parsed.data);
  }

  return {
    dir,
    list: async () => Promise.all((await versions()).map(get)),
    async current() {
      let version: string;
      try {
        version = (await readFile(join(dir, CURRENT), 'utf8')).trim();
      } catch {
        return undefined;
      }
      return get(version);
    },
    get,
    async publish(model, now = new Date()) {
      const existing = await versions();
      const sequence = existing.length === 0 ? 1 : sequenceOf(existing[existing.length - 1] ?? 'v0') + 1;
      const version = `v${sequence}-${model.metadata.dataHash.slice(0, 8)}`;
      const metadata: ModelMetadata = {
        ...model.metadata,
        version,
        createdAt: now.toISOString(),
        sizes: { fp32: model.fp32.byteLength, int8: model.int8.byteLength },
      };
      const staging = join(dir, `.staging-${version}-${process.pid}`);
      await mkdir(staging, { recursive: true });
      try {
        await writeFile(join(staging, ModelFiles.fp32), model.fp32);
        await writeFile(join(staging, ModelFiles.int8), model.int8);
        await writeFile(join(staging, ModelFiles.weights), model.weights);
        await writeFile(join(staging, ModelFiles.metadata), `${JSON.stringify(metadata, null, 2)}\n`);
        await rename(staging, join(dir, version));
      } catch (error) {
        await rm(staging, { recursive: true, force: true });
        throw new ModelRegistryError(dir, `cannot publish model ${version}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return entry(version, metadata);
    },
    async activate(version) {
      await get(version);
      const temporary = join(dir, `.${CURRENT}-${process.pid}`);
      await writeFile(temporary, `${version}\n`);
      await rename(temporary, join(dir, CURRENT));
    },
  };
}

function sequenceOf(version: string): number {
  return Number(VERSION_PATTERN.exec(version)?.[1] ?? 0);
}
