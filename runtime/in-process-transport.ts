import type { ReplySink } from './ask.js';
import type { EntityAddress, Transport, TransportHost } from './transport.js';

/** Delivers entity messages to the local actor system directly: embedded mode. */
export function createInProcessTransport(): Transport {
  return new InProcessTransport();
}

class InProcessTransport implements Transport {
  readonly name = 'in-process';
  private host: TransportHost | undefined;

  attach(host: TransportHost): void {
    if (this.host !== undefined && this.host !== host) {
      throw new Error(
        `in-process transport is already attached to actor system '${this.host.systemName}'; ` +
          'give each actor system its own (omit the transport option to get one).',
      );
    }
    this.host = host;
  }

  send(target: EntityAddress, message: unknown, reply: ReplySink | undefined): void {
    if (this.host === undefined)
      throw new Error('in-process transport used before an actor system attached it');
    this.host.deliver(target, message, reply);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
