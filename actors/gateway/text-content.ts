import type { Content } from '../umm.js';

const commandPattern = /^\/([A-Za-z][A-Za-z0-9_]{0,63})(?:\s+([\s\S]*))?$/;

/**
 * What a line typed into a text-only channel (web chat, terminal) carries: a slash command
 * (`/notes list` -> `{ type: 'command', name: 'notes', args: ['list'] }`, name lower-cased) or plain
 * text. Text that merely starts with a slash but is no command (`/usr/bin`, `/ hi`) stays text.
 */
export function contentFromText(text: string): Content {
  const match = commandPattern.exec(text.trim());
  if (match?.[1] === undefined) return { type: 'text', text };
  const rest = match[2]?.trim() ?? '';
  return { type: 'command', name: match[1].toLowerCase(), args: rest === '' ? [] : rest.split(/\s+/) };
}
