/** The `notes` skill: add, list and delete short notes, kept per person in the plugin's storage. */
import { defineSkill } from '../sdk.js';
import { addNote, deleteNote, listNotes } from './note-book.js';
import type { Note } from './note-book.js';

export default defineSkill({
  'notes.add': async (request, { storage, now }) => {
    const text = request.entities['note']?.trim() ?? '';
    if (text === '') return { text: 'What should I note down? Try "note: buy milk".' };
    await addNote(storage, text, now());
    const count = (await listNotes(storage)).length;
    return { text: `Noted: "${text}". You have ${count} ${count === 1 ? 'note' : 'notes'}.` };
  },

  'notes.list': async (_request, { storage }) => {
    const notes = await listNotes(storage);
    if (notes.length === 0) return { text: 'You have no notes yet. Add one with "note: buy milk".' };
    return { text: [`Your notes:`, ...numbered(notes)].join('\n') };
  },

  'notes.delete': async (request, { storage }) => {
    const notes = await listNotes(storage);
    if (notes.length === 0) return { text: 'You have no notes to delete.' };
    const byText = request.entities['note']?.trim() ?? '';
    // "delete note 2" may reach us as a number or, from a looser pattern, as the text "2".
    const number = request.entities['number'] ?? (/^\d+$/.test(byText) ? byText : undefined);

    if (number !== undefined) {
      const note = notes[Number(number) - 1];
      if (!note) {
        return {
          text: `There's no note ${number}: you have ${notes.length} ${notes.length === 1 ? 'note' : 'notes'}. Say "show my notes" to see them.`,
        };
      }
      await deleteNote(storage, note);
      return { text: `Deleted note ${number}: "${note.text}".` };
    }

    if (byText === '') return { text: 'Which note? Say "delete note 2" or "delete note buy milk".' };
    const wanted = byText.toLowerCase();
    const exact = notes.filter((note) => note.text.toLowerCase() === wanted);
    const matches =
      exact.length > 0 ? exact : notes.filter((note) => note.text.toLowerCase().includes(wanted));
    const [first] = matches;
    if (!first)
      return { text: `I couldn't find a note matching "${byText}". Say "show my notes" to see them.` };
    if (matches.length > 1) {
      const lines = numbered(notes).filter((_, index) => matches.includes(notes[index] as Note));
      return {
        text: [`Several notes match "${byText}":`, ...lines, 'Say "delete note <number>".'].join('\n'),
      };
    }
    await deleteNote(storage, first);
    return { text: `Deleted "${first.text}".` };
  },
});

function numbered(notes: readonly Note[]): string[] {
  return notes.map((note, index) => `${index + 1}. ${note.text}`);
}
