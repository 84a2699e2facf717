// Registers the TypeScript module hooks (`typescript-hooks.mjs`) in this thread, with stack traces that
// point into the TypeScript sources: `node --import ./bin/register.mjs some-file.ts`.
import { register } from 'node:module';

register('./typescript-hooks.mjs', import.meta.url);
process.setSourceMapsEnabled(true);
