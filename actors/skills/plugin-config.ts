/** A plugin's effective configuration: its manifest's defaults, overridden by the operator's values. */
import { PluginConfigError } from './errors.js';
import { configValueHasType } from './manifest.js';
import type { PluginManifest } from './manifest.js';

/**
 * Defaults from the manifest's `config`, then `overrides` (from Parley's configuration), each checked
 * against the declared type. Entries without a default and without an override are absent.
 *
 * @throws {PluginConfigError} for an override of an undeclared key or of the wrong type.
 */
export function resolvePluginConfig(
  manifest: PluginManifest,
  overrides: Readonly<Record<string, unknown>> = {},
): Readonly<Record<string, unknown>> {
  const declared = manifest.config ?? {};
  const config: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(declared)) {
    if (entry.default !== undefined) config[key] = structuredClone(entry.default);
  }
  const issues: string[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const entry = declared[key];
    if (!entry) issues.push(`'${key}' is not a setting of this plugin`);
    else if (!configValueHasType(value, entry.type)) issues.push(`'${key}' must be of type ${entry.type}`);
    else config[key] = value;
  }
  if (issues.length > 0) throw new PluginConfigError(manifest.name, issues);
  return Object.freeze(config);
}
