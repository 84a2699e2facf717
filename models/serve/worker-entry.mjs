// The file piscina starts in each worker thread. Workers do not inherit the module hooks that `parley`
// registers in the main thread, so register them here, then load the TypeScript worker.
import { register } from 'node:module';

register('../../bin/typescript-hooks.mjs', import.meta.url);
const { default: runBatch } = await import('./worker.ts');
export default runBatch;
