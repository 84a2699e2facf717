#!/usr/bin/env node
// The `parley` command. Parley runs from its TypeScript sources through tsx, so plugins written in
// TypeScript load the same way as the core and there is no build step between an edit and a run.
import { register } from 'tsx/esm/api';

register();
await import('../app/main.ts');
