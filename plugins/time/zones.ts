/** City names to IANA time zones: a small alias table first, then every zone the runtime knows. */
import cities from './resources/cities.json' with { type: 'json' };

/** A city the time skill can answer for. */
export interface ResolvedCity {
  /** IANA zone, e.g. `Asia/Tokyo`. */
  readonly zone: string;
  /** How to name the city in a reply, e.g. `New York` for "nyc" or `东京` for "东京". */
  readonly name: string;
}

let index: Map<string, ResolvedCity> | undefined;

/** Looks a city up by name, case-insensitively; `undefined` when unknown. */
export function resolveCity(input: string): ResolvedCity | undefined {
  const key = cityKey(input);
  if (key === '') return undefined;
  index ??= buildIndex();
  const found = index.get(key);
  if (!found) return undefined;
  // Answer in the script the person used: "东京" stays 东京, "tokyo" becomes Tokyo.
  return /\p{Script=Han}/u.test(key) ? { zone: found.zone, name: key } : found;
}

/** Whether the runtime knows this IANA zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// Making an Intl.DateTimeFormat costs ~100 µs: keep the answer until TZ changes.
let system: { readonly tz: string | undefined; readonly zone: string } | undefined;

/** The zone this process runs in. */
export function systemTimeZone(): string {
  const tz = process.env.TZ;
  if (system === undefined || system.tz !== tz) {
    system = { tz, zone: Intl.DateTimeFormat().resolvedOptions().timeZone };
  }
  return system.zone;
}

function cityKey(name: string): string {
  return name
    .normalize('NFKC')
    .replace(/_/g, ' ')
    .replace(/[\s?!.,。？！]+$/u, '')
    .replace(/^the\s+/i, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

function buildIndex(): Map<string, ResolvedCity> {
  const map = new Map<string, ResolvedCity>();
  for (const zone of Intl.supportedValuesOf('timeZone')) {
    const city = (zone.split('/').at(-1) ?? zone).replace(/_/g, ' ');
    const resolved = { zone, name: city };
    // Full ids ("asia/tokyo") always; a last segment only once: the first (alphabetical) zone keeps it.
    map.set(cityKey(zone), resolved);
    if (!map.has(cityKey(city))) map.set(cityKey(city), resolved);
  }
  // Aliases win over the runtime's names: they are curated (Beijing is in Asia/Shanghai).
  for (const entry of cities) {
    const name = entry.names[0] ?? entry.zone;
    for (const alias of entry.names) map.set(cityKey(alias), { zone: entry.zone, name });
  }
  return map;
}
