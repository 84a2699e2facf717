/**
 * Which parts of Parley a process runs, by role. Embedded mode (`all`) runs everything in one process;
 * the split roles need the cluster transport and the inference service.
 */
import type { Role } from './config-schema.js';
import { UnsupportedRoleError } from './errors.js';

/** The parts a process can run. */
export interface Components {
  /** Conversation actors, plugins and the store. */
  readonly core: boolean;
  /** Channel adapters and the HTTP listener (web chat, probes). */
  readonly gateway: boolean;
}

export function componentsFor(role: Role): Components {
  switch (role) {
    case 'all':
      return { core: true, gateway: true };
    case 'gateway':
    case 'core':
      throw new UnsupportedRoleError(
        role,
        'a separate gateway or core node needs the NATS cluster transport, which this version does not have yet; ' +
          "run role 'all' (the default)",
      );
    case 'inference':
      throw new UnsupportedRoleError(
        role,
        "the stand-alone inference service is not part of this version; role 'all' understands messages in-process",
      );
    default: {
      const unreachable: never = role;
      throw new UnsupportedRoleError(String(unreachable), 'unknown role');
    }
  }
}
