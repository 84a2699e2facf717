/**
 * JSON with positions. `JSON.parse` is fast but its errors often carry no position, and a parsed value has
 * none at all; this small scanner runs only on the error path to say on which line a syntax error or a bad
 * value is.
 */
import { DatasetError, DatasetErrorCode } from './errors.js';

/** A step into a JSON value: an object key or an array index. */
export type JsonPathKey = string | number;

/** 1-based line and column of a UTF-16 offset. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (
    let index = text.indexOf('\n');
    index !== -1 && index < offset;
    index = text.indexOf('\n', index + 1)
  ) {
    line += 1;
    lineStart = index + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Parses JSON text, turning a syntax error into a {@link DatasetError} with line and column. */
export function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    const found = findJsonSyntaxError(text);
    const where = found === undefined ? {} : lineColumnAt(text, found.offset);
    const reason =
      found?.reason ?? (cause instanceof Error ? cause.message : `invalid JSON: ${String(cause)}`);
    throw new DatasetError(
      { code: DatasetErrorCode.Syntax, file, ...where, reason: `invalid JSON: ${reason}` },
      { cause },
    );
  }
}

/**
 * The 1-based line on which the value at `path` starts; when the text has no value there (a missing key),
 * the line of the deepest value along the path that it has.
 */
export function jsonLineOf(text: string, path: readonly JsonPathKey[]): number | undefined {
  const scanner = new Scanner(text, path);
  try {
    scanner.document();
  } catch (signal) {
    if (signal instanceof Found) return lineColumnAt(text, signal.offset).line;
    if (!(signal instanceof SyntaxFault)) throw signal;
  }
  return scanner.deepest === undefined ? undefined : lineColumnAt(text, scanner.deepest).line;
}

/** The offset and nature of the first syntax error, or `undefined` for valid JSON. */
export function findJsonSyntaxError(text: string): { offset: number; reason: string } | undefined {
  try {
    new Scanner(text, undefined).document();
    return undefined;
  } catch (signal) {
    if (signal instanceof SyntaxFault) return { offset: signal.offset, reason: signal.reason };
    throw signal;
  }
}

/** A path as messages show it: `train[3]`, `intents[0].examples`. */
export function formatJsonPath(path: readonly JsonPathKey[]): string {
  return path
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? key : `.${key}`))
    .join('');
}

/** Thrown inside the scanner at the first syntax error; caught before leaving this module. */
class SyntaxFault extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Thrown inside the scanner to stop at the value looked for; caught before leaving this module. */
class Found extends Error {
  constructor(readonly offset: number) {
    super('found');
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const SIMPLE_ESCAPES = '"\\/bfnrt';

/**
 * A recursive-descent walk over RFC 8259 JSON that builds nothing. `depth` is how far the current value
 * lies along `target`, or -1 once the walk has left it.
 */
class Scanner {
  private pos = 0;
  /** Offset of the deepest value reached along the target path. */
  deepest: number | undefined;

  constructor(
    private readonly text: string,
    private readonly target: readonly JsonPathKey[] | undefined,
  ) {}

  document(): void {
    this.value(this.target === undefined ? -1 : 0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('unexpected content after the end of the JSON value');
  }

  private fail(reason: string): never {
    throw new SyntaxFault(this.pos, reason);
  }

  private skipSpace(): void {
    const { text } = this;
    while (this.pos < text.length) {
      const code = text.charCodeAt(this.pos);
      if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return;
      this.pos += 1;
    }
  }

  private value(depth: number): void {
    this.skipSpace();
    if (depth >= 0) {
      if (depth === this.target?.length) throw new Found(this.pos);
      this.deepest = this.pos;
    }
    const char = this.text[this.pos];
    switch (char) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true');
      case 'f':
        return this.literal('false');
      case 'n':
        return this.literal('null');
      case undefined:
        return this.fail('unexpected end of input; a value is missing or a bracket is not closed');
      default:
        if (char === '-' || (char >= '0' && char <= '9')) return this.number();
        return this.fail(`unexpected character ${JSON.stringify(char)} where a value should start`);
    }
  }

  private object(depth: number): void {
    this.pos += 1;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos += 1;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail('expected a double-quoted property name');
      const keyStart = this.pos;
      this.string();
      const key = depth >= 0 ? (JSON.parse(this.text.slice(keyStart, this.pos)) as string) : undefined;
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail("expected ':' after the property name");
      this.pos += 1;
      this.value(depth >= 0 && key === this.target?.[depth] ? depth + 1 : -1);
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos += 1;
      if (next === '}') return;
      if (next !== ',') {
        this.pos -= 1;
        this.fail("expected ',' or '}' after a property value");
      }
    }
  }

  private array(depth: number): void {
    this.pos += 1;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos += 1;
      return;
    }
    for (let index = 0; ; index += 1) {
      this.value(depth >= 0 && index === this.target?.[depth] ? depth + 1 : -1);
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos += 1;
      if (next === ']') return;
      if (next !== ',') {
        this.pos -= 1;
        this.fail("expected ',' or ']' after an array element");
      }
    }
  }

  private string(): void {
    const { text } = this;
    const start = this.pos;
    this.pos += 1;
    for (;;) {
      if (this.pos >= text.length) {
        this.pos = start;
        this.fail('unterminated string');
      }
      const code = text.charCodeAt(this.pos);
      if (code === 0x22) {
        this.pos += 1;
        return;
      }
      if (code === 0x5c) {
        const escape = text[this.pos + 1];
        if (escape === 'u') {
          HEX4.lastIndex = this.pos + 2;
          if (!HEX4.test(text)) this.fail('invalid \\u escape: four hex digits expected');
          this.pos += 6;
        } else if (escape !== undefined && SIMPLE_ESCAPES.includes(escape)) {
          this.pos += 2;
        } else {
          this.fail(`invalid escape '\\${escape ?? ''}' in a string`);
        }
      } else if (code < 0x20) {
        this.fail('control character in a string (a raw line break? write it as \\n)');
      } else {
        this.pos += 1;
      }
    }
  }

  private number(): void {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail('invalid number');
    this.pos += match[0].length;
  }

  private literal(word: string): void {
    if (!this.text.startsWith(word, this.pos)) this.fail(`unexpected token; expected '${word}'`);
    this.pos += word.length;
  }
}
