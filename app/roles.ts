/**
 * Which parts of Parley a process runs, by role. Embedded mode (`all`) runs everything in one process
 * (the intent model on worker threads, or through a remote inference service when one is configured);
 * `inference` serves the model over gRPC; `gateway` (channels, HTTP) and `core` (conversation actors) are
 * cluster nodes that talk over NATS.
 */
import type { Role } from './config-schema.js';
import { UnsupportedRoleError } from './errors.js';

/** The parts a process can run. */
export interface Components {
  /** Conversation actors, plugins and the store. */
  readonly core: boolean;
  /** Channel adapters and the HTTP listener (web chat, probes). */
  readonly gateway: boolean;
  /** The intent model behind gRPC for other processes (`parley serve inference`). */
  readonly inference: boolean;
}

export function componentsFor(role: Role): Components {
  switch (role) {
    case 'all':
      return { core: true, gateway: true, inference: false };
    case 'gateway':
      return { core: false, gateway: true, inference: false };
    case 'core':
      return { core: true, gateway: false, inference: false };
    case 'inference':
      return { core: false, gateway: false, inference: true };
    default: {
      const unreachable: never = role;
      throw new UnsupportedRoleError(String(unreachable), 'unknown role');
    }
  }
}
