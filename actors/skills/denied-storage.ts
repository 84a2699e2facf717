/** The storage a plugin gets when its manifest does not ask for the `storage` permission. */
import type { PluginStorage } from '../../plugins/sdk.js';
import { PluginPermissionError } from './errors.js';

/** A {@link PluginStorage} whose every call rejects with {@link PluginPermissionError}. */
export function deniedStorage(plugin: string): PluginStorage {
  const deny = (): Promise<never> => Promise.reject(new PluginPermissionError(plugin, 'storage'));
  return { get: deny, set: deny, delete: deny, list: deny };
}
