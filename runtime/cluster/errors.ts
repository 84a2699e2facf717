import { RuntimeError, RuntimeErrorCode } from '../errors.js';

/** The cluster transport could not do what was asked: publish, encode, attach. The message says which. */
export class ClusterError extends RuntimeError {
  override readonly name = 'ClusterError';
  readonly code = RuntimeErrorCode.Cluster;
}

/**
 * An ask failed on the node that hosts the entity, `maxDeliver` times; the message is in the dead-letter
 * stream. Carries the remote error's name and message (its stack stays in that node's log).
 */
export class RemoteActorError extends RuntimeError {
  override readonly name = 'RemoteActorError';
  readonly code = RuntimeErrorCode.RemoteActorFailed;

  constructor(
    readonly remoteName: string,
    remoteMessage: string,
  ) {
    super(`${remoteName}: ${remoteMessage} (on the node hosting the entity; the message was dead-lettered)`);
  }
}
