// The file piscina starts in each worker thread. Workers do not inherit the tsx loader that `parley`
// registers in the main thread, so register it here, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
const { default: runBatch } = await import('./worker.ts');
export default runBatch;
