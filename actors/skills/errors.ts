/**
 * Errors of the plugin system. Each class sets `name`, carries the plugin (and intent or file) a person
 * needs to find the problem, and passes the underlying error on as `cause`. Errors from a plugin's own
 * code are wrapped in {@link PluginError} (or {@link PluginTimeoutError}) and go to the caller's
 * supervisor; they never take down the process.
 */

/** Stable, machine-readable codes carried by every {@link PluginSystemError}. */
export const PluginErrorCode = {
  /** The plugins directory does not exist or cannot be listed. */
  DirectoryUnreadable: 'PLUGIN_DIRECTORY_UNREADABLE',
  /** A plugin folder has no readable `manifest.json`. */
  ManifestMissing: 'PLUGIN_MANIFEST_MISSING',
  /** `manifest.json` is not valid JSON. */
  ManifestSyntax: 'PLUGIN_MANIFEST_SYNTAX',
  /** `manifest.json` is JSON but breaks the manifest schema. */
  ManifestInvalid: 'PLUGIN_MANIFEST_INVALID',
  /** An intent is already declared by a plugin loaded earlier. */
  DuplicateIntent: 'PLUGIN_DUPLICATE_INTENT',
  /** A plugin of the same name was loaded earlier (from another directory). */
  DuplicatePlugin: 'PLUGIN_DUPLICATE_PLUGIN',
  /** Neither `handler.ts` nor `handler.js` exists. */
  HandlerMissing: 'PLUGIN_HANDLER_MISSING',
  /** Importing the handler module threw. */
  HandlerImportFailed: 'PLUGIN_HANDLER_IMPORT_FAILED',
  /** The handler module's default export does not match the manifest's intents. */
  HandlerInvalid: 'PLUGIN_HANDLER_INVALID',
  /** Configuration given for a plugin does not match its manifest's `config`. */
  ConfigInvalid: 'PLUGIN_CONFIG_INVALID',
  /** The plugin host's options are invalid. */
  HostOptionsInvalid: 'PLUGIN_HOST_OPTIONS_INVALID',
  /** No loaded plugin declares the requested intent. */
  UnknownIntent: 'PLUGIN_UNKNOWN_INTENT',
  /** A handler threw or rejected. */
  HandlerFailed: 'PLUGIN_HANDLER_FAILED',
  /** A handler resolved something that is not a `SkillResult`. */
  InvalidResult: 'PLUGIN_INVALID_RESULT',
  /** A handler did not settle within the per-call timeout. */
  Timeout: 'PLUGIN_TIMEOUT',
  /** A plugin used a capability its manifest does not ask for. */
  PermissionDenied: 'PLUGIN_PERMISSION_DENIED',
} as const;
export type PluginErrorCode = (typeof PluginErrorCode)[keyof typeof PluginErrorCode];

/** Base class of every error the plugin system throws on purpose. */
export abstract class PluginSystemError extends Error {
  abstract readonly code: PluginErrorCode;
}

/** The plugins directory itself cannot be read; nothing was loaded. */
export class PluginDirectoryError extends PluginSystemError {
  override readonly name = 'PluginDirectoryError';
  readonly code = PluginErrorCode.DirectoryUnreadable;
  constructor(
    readonly dir: string,
    options: ErrorOptions & { cause: unknown },
  ) {
    super(
      `cannot read the plugins directory ${dir}: ${describe(options.cause)}; check the path and permissions`,
      options,
    );
  }
}

/** The codes a {@link PluginLoadError} can carry. */
export type PluginLoadErrorCode =
  | typeof PluginErrorCode.ManifestMissing
  | typeof PluginErrorCode.ManifestSyntax
  | typeof PluginErrorCode.ManifestInvalid
  | typeof PluginErrorCode.DuplicateIntent
  | typeof PluginErrorCode.DuplicatePlugin
  | typeof PluginErrorCode.HandlerMissing
  | typeof PluginErrorCode.HandlerImportFailed
  | typeof PluginErrorCode.HandlerInvalid;

/** One plugin could not be loaded; the loader reports it and skips the plugin. */
export class PluginLoadError extends PluginSystemError {
  override readonly name: string = 'PluginLoadError';
  constructor(
    readonly code: PluginLoadErrorCode,
    /** The plugin's folder name. */
    readonly plugin: string,
    /** The file at fault (the manifest or the handler, or where it was expected). */
    readonly path: string,
    /** What is wrong and what to do, without the plugin and path. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot load plugin '${plugin}' (${path}): ${reason}`, options);
  }
}

/** One schema problem in a manifest. */
export interface ManifestIssue {
  /** Where in the JSON, e.g. `intents[0].patterns[1]`; `(root)` for the whole document. */
  readonly path: string;
  readonly message: string;
}

/** `manifest.json` is not valid JSON, or breaks the schema; `issues`, `line` and `column` say where. */
export class PluginManifestError extends PluginLoadError {
  override readonly name = 'PluginManifestError';
  constructor(
    code: typeof PluginErrorCode.ManifestSyntax | typeof PluginErrorCode.ManifestInvalid,
    plugin: string,
    path: string,
    reason: string,
    readonly issues: readonly ManifestIssue[],
    /** 1-based position of a JSON syntax error, when the parser reports one. */
    readonly position?: { readonly line: number; readonly column: number },
    options?: ErrorOptions,
  ) {
    super(code, plugin, path, reason, options);
  }
}

/** Configuration for a plugin does not match what its manifest declares. */
export class PluginConfigError extends PluginSystemError {
  override readonly name = 'PluginConfigError';
  readonly code = PluginErrorCode.ConfigInvalid;
  constructor(
    readonly plugin: string,
    readonly issues: readonly string[],
  ) {
    super(`invalid configuration for plugin '${plugin}': ${issues.join('; ')}`);
  }
}

/** The options given to `createPluginHost()` are invalid. */
export class PluginHostOptionsError extends PluginSystemError {
  override readonly name = 'PluginHostOptionsError';
  readonly code = PluginErrorCode.HostOptionsInvalid;
  constructor(readonly issues: readonly string[]) {
    super(`invalid plugin host options: ${issues.join('; ')}`);
  }
}

/** No loaded plugin declares the intent; the classifier and the host disagree (e.g. during a reload). */
export class UnknownIntentError extends PluginSystemError {
  override readonly name = 'UnknownIntentError';
  readonly code = PluginErrorCode.UnknownIntent;
  constructor(readonly intent: string) {
    super(`no loaded plugin handles intent '${intent}'; is its plugin loaded?`);
  }
}

/** A plugin's handler threw, rejected or returned something that is not a `SkillResult`. */
export class PluginError extends PluginSystemError {
  override readonly name = 'PluginError';
  constructor(
    readonly code: typeof PluginErrorCode.HandlerFailed | typeof PluginErrorCode.InvalidResult,
    readonly plugin: string,
    readonly intent: string,
    options: ErrorOptions & { cause: unknown },
  ) {
    super(
      code === PluginErrorCode.HandlerFailed
        ? `plugin '${plugin}' failed handling '${intent}': ${describe(options.cause)}`
        : `plugin '${plugin}' returned an invalid result for '${intent}': ${describe(options.cause)}; return { text } or { texts }`,
      options,
    );
  }
}

/** A plugin's handler did not settle within the per-call timeout; its result, if any, is ignored. */
export class PluginTimeoutError extends PluginSystemError {
  override readonly name = 'PluginTimeoutError';
  readonly code = PluginErrorCode.Timeout;
  constructor(
    readonly plugin: string,
    readonly intent: string,
    readonly timeoutMs: number,
  ) {
    super(`plugin '${plugin}' did not answer '${intent}' within ${timeoutMs} ms`);
  }
}

/** A plugin used a capability (e.g. storage) that its manifest's `permissions` does not ask for. */
export class PluginPermissionError extends PluginSystemError {
  override readonly name = 'PluginPermissionError';
  readonly code = PluginErrorCode.PermissionDenied;
  constructor(
    readonly plugin: string,
    readonly permission: string,
  ) {
    super(
      `plugin '${plugin}' has no '${permission}' permission; add "${permission}" to "permissions" in its manifest.json`,
    );
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
