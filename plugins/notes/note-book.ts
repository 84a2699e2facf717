/** A person's notes over the plugin's storage: one entry per note, keyed in creation order. */
import type { PluginStorage } from '../sdk.js';

/** A stored note. */
export interface Note {
  /** Storage key, `note:<zero-padded sequence>`; sorting keys sorts notes by creation. */
  readonly key: string;
  readonly text: string;
  /** ISO 8601 instant. */
  readonly createdAt: string;
}

const NOTE_PREFIX = 'note:';
const SEQUENCE_KEY = 'sequence';

/** All notes, oldest first. */
export async function listNotes(storage: PluginStorage): Promise<Note[]> {
  const entries = await storage.list<{ text: string; createdAt: string }>(NOTE_PREFIX);
  return entries.map(({ key, value }) => ({ key, text: value.text, createdAt: value.createdAt }));
}

/** Stores a note after the existing ones. */
export async function addNote(storage: PluginStorage, text: string, now: Date): Promise<Note> {
  const sequence = ((await storage.get<number>(SEQUENCE_KEY)) ?? 0) + 1;
  await storage.set(SEQUENCE_KEY, sequence);
  // Twelve digits keep lexical order equal to numeric order for any realistic count.
  const key = `${NOTE_PREFIX}${String(sequence).padStart(12, '0')}`;
  const note = { text, createdAt: now.toISOString() };
  await storage.set(key, note);
  return { key, ...note };
}

export async function deleteNote(storage: PluginStorage, note: Note): Promise<boolean> {
  return storage.delete(note.key);
}
