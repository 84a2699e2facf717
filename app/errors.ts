/** Errors of the composition root: configuration and start-up. */

export const ConfigErrorCodes = {
  /** The config file could not be read or is not JSON. */
  unreadableFile: 'config.unreadable_file',
  /** A value (from the file or the environment) failed validation. */
  invalid: 'config.invalid',
} as const;
export type ConfigErrorCode = (typeof ConfigErrorCodes)[keyof typeof ConfigErrorCodes];

/** One problem with one configuration key. */
export interface ConfigIssue {
  /** Dotted path of the key, e.g. `http.port`. */
  readonly path: string;
  /** Where the value came from: the file path, an environment variable, or `defaults`. */
  readonly source: string;
  readonly message: string;
}

/** The configuration is wrong; `issues` says which keys and why. Parley refuses to start. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly code: ConfigErrorCode,
    readonly issues: readonly ConfigIssue[],
    options?: ErrorOptions,
  ) {
    super(
      `invalid configuration:\n${issues.map((issue) => `  - ${issue.path} (${issue.source}): ${issue.message}`).join('\n')}`,
      options,
    );
  }
}

/** A role or mode was asked for that this build cannot run yet or that conflicts with another setting. */
export class UnsupportedRoleError extends Error {
  override readonly name = 'UnsupportedRoleError';
  constructor(
    readonly role: string,
    reason: string,
  ) {
    super(`role '${role}' cannot run: ${reason}`);
  }
}

/** The HTTP port is taken, most likely by another Parley. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly host: string,
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(
      `port ${port} on ${host} is already in use: is another Parley running? ` +
        'Stop it or set PARLEY_HTTP_PORT to another port',
      options,
    );
  }
}

/** The NATS server of a cluster node could not be reached at start-up. */
export class ClusterConnectError extends Error {
  override readonly name = 'ClusterConnectError';
  constructor(
    readonly servers: string,
    options?: ErrorOptions,
  ) {
    super(
      `cannot connect to NATS at ${servers}: is nats-server running with JetStream (-js)? ` +
        'Start it (apt-get install nats-server; nats-server -js) or set NATS_URL',
      options,
    );
  }
}
