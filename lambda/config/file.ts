import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { maskSecrets } from './masking.ts';

/**
 * Reads a JSON config document; a missing file or bad JSON is a ConfigError naming the file.
 * A syntax error gives its line and column only: JSON.parse's own message quotes the text
 * around the error, which may be a secret pasted into the file.
 */
export function readJsonFile(path: string, cwd = process.cwd()): unknown {
  const shown = shownPath(path);
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        path: shown,
        message: `cannot read the file (${code === 'ENOENT' ? 'not found' : (code ?? 'unknown error')})`,
      },
    ]);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError([{ path: shown, message: `not valid JSON (${jsonSyntaxError(text)})` }]);
  }
}

/** A file name for a message: secrets masked, quoted when empty or holding spaces or control characters. */
export function shownPath(path: string): string {
  const masked = maskSecrets(path);
  return /^[^\s\p{Cc}]+$/u.test(masked) ? masked : JSON.stringify(masked);
}

/** Where and what the first JSON syntax error in `text` is, without quoting the text. */
export function jsonSyntaxError(text: string): string {
  const error = new JsonScanner(text).firstError();
  if (error === undefined) return 'not a JSON document';
  const { line, column } = lineAndColumn(text, error.at);
  return `${error.what} at line ${line}, column ${column}`;
}

function lineAndColumn(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < at; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: at - start + 1 };
}

interface SyntaxProblem {
  readonly at: number;
  readonly what: string;
}

class JsonSyntax extends Error {
  constructor(readonly problem: SyntaxProblem) {
    super(problem.what);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Control characters (U+0000-U+001F) end the body: JSON allows them only escaped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the rule being checked
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;
const LITERALS = ['true', 'false', 'null'];

/** A JSON (RFC 8259) syntax checker, iterative so deep nesting cannot overflow the stack. */
class JsonScanner {
  private at = 0;
  constructor(private readonly text: string) {}

  firstError(): SyntaxProblem | undefined {
    try {
      this.value();
      this.space();
      if (this.at < this.text.length) this.fail('unexpected text after the document');
      return undefined;
    } catch (error) {
      if (error instanceof JsonSyntax) return error.problem;
      throw error;
    }
  }

  private fail(what: string, at = this.at): never {
    throw new JsonSyntax({ at, what: at >= this.text.length ? 'unexpected end of input' : what });
  }

  private space(): void {
    while (/[ \t\n\r]/.test(this.text.charAt(this.at))) this.at++;
  }

  /** One value; containers are tracked on an explicit stack. */
  private value(): void {
    const open: string[] = [];
    for (;;) {
      this.space();
      const c = this.text.charAt(this.at);
      if (c === '{' || c === '[') {
        this.at++;
        this.space();
        const close = c === '{' ? '}' : ']';
        if (this.text.charAt(this.at) === close) {
          this.at++;
        } else {
          open.push(close);
          if (close === '}') this.key();
          continue;
        }
      } else this.scalar();
      // After a value: a comma or the closing bracket of each open container.
      for (;;) {
        const close = open.at(-1);
        if (close === undefined) return;
        this.space();
        const next = this.text.charAt(this.at);
        if (next === ',') {
          this.at++;
          if (close === '}') this.key();
          break;
        }
        if (next !== close) this.fail(`expected "," or "${close}"`);
        this.at++;
        open.pop();
      }
    }
  }

  private key(): void {
    this.space();
    if (this.text.charAt(this.at) !== '"') this.fail('expected a property name in double quotes');
    this.string();
    this.space();
    if (this.text.charAt(this.at) !== ':') this.fail('expected ":" after a property name');
    this.at++;
  }

  private scalar(): void {
    const c = this.text.charAt(this.at);
    if (c === '"') {
      this.string();
      return;
    }
    const literal = LITERALS.find((l) => this.text.startsWith(l, this.at));
    if (literal !== undefined) {
      this.at += literal.length;
      return;
    }
    NUMBER.lastIndex = this.at;
    if (NUMBER.exec(this.text) !== null && NUMBER.lastIndex > this.at) {
      this.at = NUMBER.lastIndex;
      return;
    }
    this.fail('expected a value');
  }

  private string(): void {
    STRING_BODY.lastIndex = this.at + 1;
    STRING_BODY.exec(this.text);
    this.at = STRING_BODY.lastIndex;
    const c = this.text.charAt(this.at);
    if (c === '"') {
      this.at++;
      return;
    }
    this.fail(
      c === '\\'
        ? 'invalid escape in a string'
        : c === ''
          ? 'unexpected end of input'
          : 'unterminated string or control character in a string',
    );
  }
}
