/**
 * Rasa NLU training data (`nlu.yml`, format version "3.1"), so Rasa users can bring their data.
 *
 * @example
 * ```yaml
 * version: "3.1"
 * nlu:
 *   - intent: time_in_city
 *     examples: |
 *       - what time is it in [Berlin](city)
 *       - time in [New York]{"entity": "city"}
 * ```
 *
 * Entity annotations are reduced to their text (`[Berlin](city)` -> `Berlin`); `synonym`, `regex` and
 * `lookup` items are skipped. Rasa's conventional `out_of_scope` intent becomes {@link OUT_OF_SCOPE}.
 */
import type { YAMLMap } from 'yaml';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Dataset, Example } from './dataset.js';
import { makeDataset, OUT_OF_SCOPE } from './dataset.js';
import { DatasetError, DatasetErrorCode } from './errors.js';

/** The intent name Rasa's documentation gives out-of-scope examples. */
export const RASA_OUT_OF_SCOPE = 'out_of_scope';

const SKIPPED_ITEMS = ['synonym', 'regex', 'lookup'] as const;

// `[text](entity)`, `[text](entity:value)`, `[text]{"entity": ...}` and `[text][{...}, {...}]`.
const ENTITY = /\[([^\]]*)\](?:\([^)]*\)|\{[^{}]*\}|\[\{.*?\}\])/gu;

/** Reduces Rasa entity annotations to their text: `fly to [Berlin](city)` -> `fly to Berlin`. */
export function stripEntityAnnotations(text: string): string {
  return text.replace(ENTITY, '$1');
}

/** Reads a Rasa NLU YAML file's text; every example goes to `train`. */
export function rasaDataset(file: string, text: string): Dataset {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  const [error] = document.errors;
  if (error !== undefined) {
    const position = error.linePos?.[0];
    throw new DatasetError(
      {
        code: DatasetErrorCode.Syntax,
        file,
        line: position?.line,
        column: position?.col,
        reason: `invalid YAML: ${error.message.split(/ at line \d+/)[0] ?? error.message}`,
      },
      { cause: error },
    );
  }
  const lineOf = (node: unknown): number | undefined =>
    isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined;
  const fail = (node: unknown, reason: string): never => {
    throw new DatasetError({ code: DatasetErrorCode.InvalidStructure, file, line: lineOf(node), reason });
  };

  const root = document.contents;
  if (!isMap(root)) return fail(root, "a Rasa NLU file is a mapping with an 'nlu:' list");
  const nlu = root.get('nlu', true);
  if (nlu === undefined) {
    return fail(root, "no 'nlu:' section; Rasa training data lists intents under 'nlu:'");
  }
  if (!isSeq(nlu)) return fail(nlu, "'nlu:' must be a list of '- intent: <name>' items");

  const train: Example[] = [];
  for (const item of nlu.items) {
    if (!isMap(item)) return fail(item, "each 'nlu:' item must be a mapping such as '- intent: greet'");
    if (!item.has('intent')) {
      if (SKIPPED_ITEMS.some((key) => item.has(key))) continue;
      return fail(item, `an 'nlu:' item needs one of: intent, ${SKIPPED_ITEMS.join(', ')}`);
    }
    const intent = item.get('intent', true);
    const value = isScalar(intent) ? intent.value : undefined;
    const name = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
    if (name === '') {
      throw new DatasetError({
        code: DatasetErrorCode.EmptyField,
        file,
        line: lineOf(intent ?? item),
        reason: "empty intent name; write '- intent: <name>'",
      });
    }
    const label = name === RASA_OUT_OF_SCOPE ? OUT_OF_SCOPE : name;
    const before = train.length;
    for (const example of intentExamples(item, name)) {
      const exampleText = stripEntityAnnotations(example.text).trim();
      if (exampleText === '') {
        throw new DatasetError({
          code: DatasetErrorCode.EmptyField,
          file,
          line: example.line,
          reason: `empty example in intent '${name}'`,
        });
      }
      train.push({ text: exampleText, label });
    }
    if (train.length === before) fail(item, `intent '${name}' has no examples`);
  }
  return makeDataset('rasa', file, { train });

  /** The raw examples of one intent item, each with its line. */
  function intentExamples(item: YAMLMap, name: string): Array<{ text: string; line: number | undefined }> {
    const examples = item.get('examples', true);
    if (examples === undefined) return [];
    if (isScalar(examples) && typeof examples.value === 'string') {
      // In a literal block (`examples: |`) each line of the value is one line of the file, the first right
      // after the `|` line; other scalar styles fold lines, so only the scalar's own line is known.
      const first = lineOf(examples);
      const literal = examples.type === 'BLOCK_LITERAL';
      const found: Array<{ text: string; line: number | undefined }> = [];
      examples.value.split('\n').forEach((raw, index) => {
        const line = first === undefined ? undefined : literal ? first + 1 + index : first;
        const trimmed = raw.trim();
        if (trimmed === '') return;
        if (!trimmed.startsWith('-')) {
          throw new DatasetError({
            code: DatasetErrorCode.InvalidStructure,
            file,
            line,
            reason: `examples of intent '${name}' are lines starting with '- ', got ${JSON.stringify(trimmed)}`,
          });
        }
        found.push({ text: trimmed.slice(1), line });
      });
      return found;
    }
    if (isSeq(examples)) {
      // Rasa's long form: `examples:` then `- text: |` items, each with optional metadata.
      return examples.items.map((entry) => {
        const textNode = isMap(entry) ? entry.get('text', true) : undefined;
        if (!isScalar(textNode) || typeof textNode.value !== 'string') {
          return fail(entry, `each example of intent '${name}' needs a 'text:'`);
        }
        return { text: textNode.value, line: lineOf(textNode) };
      });
    }
    return fail(
      examples,
      `examples of intent '${name}' must be a block of '- example' lines ('examples: |')`,
    );
  }
}
