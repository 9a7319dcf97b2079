import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxError, readJsonFile } from '../../lambda/config/file.ts';
import { ConfigError } from '../../lambda/core/errors.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function fileWith(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ses-stats-config-')), 'config.json');
  writeFileSync(path, text);
  return path;
}

function problemOf(path: string): string {
  try {
    readJsonFile(path);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('readJsonFile', () => {
  it('reads a JSON document', () => {
    expect(readJsonFile(fileWith('{"activities": [1]}'))).toEqual({ activities: [1] });
  });

  it('rejects a syntax error by line and column without quoting the text around it', () => {
    const path = fileWith(`{\n  "secretAccessKey": "${SECRET}" "x"\n}`);

    const problem = problemOf(path);

    expect(problem).toBe(`${path}: not valid JSON (expected "," or "}" at line 2, column 65)`);
    expect(problem).not.toContain(SECRET.slice(0, 8));
  });

  it('rejects a missing file naming it', () => {
    expect(problemOf('/nonexistent/ses-stats.json')).toBe(
      '/nonexistent/ses-stats.json: cannot read the file (not found)',
    );
  });

  it('rejects a directory naming the error code', () => {
    expect(problemOf(tmpdir())).toBe(`${tmpdir()}: cannot read the file (EISDIR)`);
  });
});

describe('jsonSyntaxError', () => {
  it.each([
    ['', 'unexpected end of input at line 1, column 1'],
    ['{"a":1', 'unexpected end of input at line 1, column 7'],
    ['{"a":1}}', 'unexpected text after the document at line 1, column 8'],
    ['[1,]', 'expected a value at line 1, column 4'],
    ['{"a" 1}', 'expected ":" after a property name at line 1, column 6'],
    ['{a:1}', 'expected a property name in double quotes at line 1, column 2'],
    ['"a\\x"', 'invalid escape in a string at line 1, column 3'],
    ['"a\nb"', 'unterminated string or control character in a string at line 1, column 3'],
    ['\n\n  [1 2]', 'expected "," or "]" at line 3, column 6'],
    ['\uFEFF{}', 'expected a value at line 1, column 1'],
  ])('locates the error in %j', (text, expected) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(jsonSyntaxError(text)).toBe(expected);
  });
});
