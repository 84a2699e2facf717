#!/usr/bin/env node
// The `parley` command. Parley runs from its TypeScript sources, each transformed as it is imported
// (`typescript-hooks.mjs`), so plugins written in TypeScript load the same way as the core and there is
// no build step between an edit and a run.
import './register.mjs';

await import('../app/main.ts');
