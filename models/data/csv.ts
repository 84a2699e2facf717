/**
 * CSV datasets: a header row naming the text column (`text`) and the label column (`label`, `intent` or
 * `category`), then one example per record.
 *
 * @example
 * ```csv
 * text,label
 * what time is it,time.current
 * "remind me to buy eggs, milk",notes.add
 * ```
 */
import type { Dataset, Example } from './dataset.js';
import { makeDataset } from './dataset.js';
import { DatasetError, DatasetErrorCode } from './errors.js';

/** Header names accepted for the label column, preferred first. */
export const CSV_LABEL_COLUMNS = ['label', 'intent', 'category'] as const;
/** Header name of the text column. */
export const CSV_TEXT_COLUMN = 'text';

/** One record and the 1-based line it starts on (a quoted field may span lines). */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Splits RFC 4180 CSV into records: comma-separated, fields optionally in double quotes, `""` for a quote
 * inside a quoted field, which may also hold commas and line breaks. Lines end in LF or CRLF. Two
 * leniencies: a quote inside an unquoted field is kept as a character (`5" screen`), and blank lines are
 * skipped.
 */
export function parseCsv(file: string, text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const length = text.length;
  let pos = 0;
  let line = 1;
  while (pos < length) {
    const recordLine = line;
    const fields: string[] = [];
    let endOfRecord = false;
    while (!endOfRecord) {
      let field: string;
      if (text.charCodeAt(pos) === 0x22) {
        const openLine = line;
        let value = '';
        let from = pos + 1;
        for (;;) {
          const quote = text.indexOf('"', from);
          if (quote === -1) {
            throw new DatasetError({
              code: DatasetErrorCode.Syntax,
              file,
              line: openLine,
              reason: 'unterminated quoted field: the opening " has no closing "',
            });
          }
          const chunk = text.slice(from, quote);
          line += countLineBreaks(chunk);
          value += chunk;
          if (text.charCodeAt(quote + 1) === 0x22) {
            value += '"';
            from = quote + 2;
            continue;
          }
          pos = quote + 1;
          break;
        }
        const next = text.charCodeAt(pos);
        if (pos < length && next !== 0x2c && next !== 0x0a && next !== 0x0d) {
          throw new DatasetError({
            code: DatasetErrorCode.Syntax,
            file,
            line,
            reason: `unexpected ${JSON.stringify(text[pos])} after a closing quote; double a quote inside a quoted field ("")`,
          });
        }
        field = value;
      } else {
        let end = pos;
        while (end < length) {
          const code = text.charCodeAt(end);
          if (code === 0x2c || code === 0x0a || code === 0x0d) break;
          end += 1;
        }
        field = text.slice(pos, end);
        pos = end;
      }
      fields.push(field);
      const separator = text.charCodeAt(pos);
      if (separator === 0x2c) {
        pos += 1;
      } else {
        endOfRecord = true;
        if (separator === 0x0d) pos += 1;
        if (text.charCodeAt(pos) === 0x0a) pos += 1;
        line += 1;
      }
    }
    const blank = fields.length === 1 && fields[0]?.trim() === '';
    if (!blank) records.push({ line: recordLine, fields });
  }
  return records;
}

function countLineBreaks(chunk: string): number {
  let count = 0;
  for (let index = chunk.indexOf('\n'); index !== -1; index = chunk.indexOf('\n', index + 1)) count += 1;
  return count;
}

/** Reads a CSV dataset's text (BOM already removed); every example goes to `train`. */
export function csvDataset(file: string, text: string): Dataset {
  const [header, ...rows] = parseCsv(file, text);
  if (header === undefined) {
    throw new DatasetError({ code: DatasetErrorCode.Empty, file, reason: 'the CSV file is empty' });
  }
  const names = header.fields.map((name) => name.trim().toLowerCase());
  const textColumn = names.indexOf(CSV_TEXT_COLUMN);
  const labelColumn = CSV_LABEL_COLUMNS.map((name) => names.indexOf(name)).find((index) => index !== -1);
  if (textColumn === -1 || labelColumn === undefined) {
    const found = header.fields.map((name) => JSON.stringify(name)).join(', ');
    const missing =
      textColumn === -1
        ? `no '${CSV_TEXT_COLUMN}' column`
        : `no label column (${CSV_LABEL_COLUMNS.map((name) => `'${name}'`).join(', ')})`;
    throw new DatasetError({
      code: DatasetErrorCode.MissingColumn,
      file,
      line: header.line,
      reason:
        `${missing} in the header (found ${found}); the first row must name ` +
        `a '${CSV_TEXT_COLUMN}' column and a label column: ${CSV_LABEL_COLUMNS.join(', ')}`,
    });
  }
  const train: Example[] = [];
  for (const { line, fields } of rows) {
    if (fields.length !== names.length) {
      throw new DatasetError({
        code: DatasetErrorCode.FieldCount,
        file,
        line,
        reason: `${fields.length} field${fields.length === 1 ? '' : 's'} where the header has ${names.length}; quote a field that contains a comma`,
      });
    }
    const exampleText = fields[textColumn]?.trim() ?? '';
    const label = fields[labelColumn]?.trim() ?? '';
    const empty = exampleText === '' ? CSV_TEXT_COLUMN : label === '' ? names[labelColumn] : undefined;
    if (empty !== undefined) {
      throw new DatasetError({ code: DatasetErrorCode.EmptyField, file, line, reason: `empty ${empty}` });
    }
    train.push({ text: exampleText, label });
  }
  return makeDataset('csv', file, { train });
}
