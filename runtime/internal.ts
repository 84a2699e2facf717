/**
 * Internals the runtime's own tests (and benchmarks) need. Not for the rest of Parley: import `index.ts`.
 */
export * from './index.js';
export { compileActorSystemOptions } from './actor-system-options.js';
export type { CompiledActorSystemOptions } from './actor-system-options.js';
export { CellStatus } from './actor-cell.js';
export { DeadLetterOffice } from './dead-letters.js';
export { Dispatcher } from './dispatcher.js';
export { compileEntityDefinition } from './entity.js';
export type { CompiledEntityDefinition } from './entity.js';
export { messageTypeOf, toError } from './errors.js';
export { silentLogger } from './logger.js';
export { Mailbox } from './mailbox.js';
export { askWithDeadline } from './pending-ask.js';
export { RestartHistory, compileDirective, decideDirective } from './supervisor.js';
export type { CompiledDirective } from './supervisor.js';
export { Timers } from './timers.js';
