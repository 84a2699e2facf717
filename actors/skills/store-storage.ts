/** Plugin storage backed by the store's `plugin_data` table: one namespace per plugin and user. */
import type { PluginStorage } from '../../plugins/sdk.js';
import type { Store } from '../../store/index.js';

export function storeBackedStorage(
  pluginData: Store['pluginData'],
): (plugin: string, userId: string) => PluginStorage {
  return (plugin, userId) => ({
    get: <T>(key: string) => pluginData.get(plugin, userId, key) as Promise<T | undefined>,
    set: (key, value) => pluginData.set(plugin, userId, key, value),
    delete: (key) => pluginData.delete(plugin, userId, key),
    list: <T>(prefix?: string) =>
      pluginData.list(plugin, userId, prefix) as Promise<Array<{ key: string; value: T }>>,
  });
}
