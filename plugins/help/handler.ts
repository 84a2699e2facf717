/** The `help` skill: what Parley can do, from the catalog of loaded plugins. */
import { defineSkill } from '../sdk.js';
import type { CatalogEntry } from '../sdk.js';

export default defineSkill({
  'help.show': (request, { catalog }) => {
    const own = request.intent.split('.')[0];
    const byPlugin = new Map<string, CatalogEntry[]>();
    for (const entry of catalog) {
      if (entry.plugin === own) continue;
      byPlugin.set(entry.plugin, [...(byPlugin.get(entry.plugin) ?? []), entry]);
    }
    if (byPlugin.size === 0) return { text: "I can't do much yet: no skills are installed." };

    const sections = [...byPlugin].map(([plugin, entries]) =>
      [
        title(plugin),
        ...entries.map(
          (entry) => `- ${entry.description}${entry.example ? `, e.g. "${entry.example}"` : ''}`,
        ),
      ].join('\n'),
    );
    return { text: ["Here's what I can do:", ...sections, 'Just ask in your own words.'].join('\n\n') };
  },
});

function title(plugin: string): string {
  const words = plugin.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
