import fc from 'fast-check';
import { FAKE_SECRET_ACCESS_KEY } from './fake-ses.ts';

/** Every fuzz run uses this seed, so a failure replays exactly (FUZZ_SEED=N explores another). */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

/** Secrets the fuzzers plant in inputs; none may appear in any output. */
export const SECRET_KEYS = [FAKE_SECRET_ACCESS_KEY, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'];
/** Proxy passwords: not secret-looking, so planted only where a password goes (URL user info, secret fields). */
export const PASSWORDS = ['c0rp-Pr0xy-pass', 'hunter2-Pr0xy'];
export const ALL_SECRETS = [...SECRET_KEYS, ...PASSWORDS];

/** Object.prototype's property names: a lookup by any of them must not find the prototype's. */
export const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

export const secretKey = fc.constantFrom(...SECRET_KEYS);
export const password = fc.constantFrom(...PASSWORDS);

/** A URL or host with a password in its user info. */
export const userInfoUrl = fc
  .tuple(
    fc.constantFrom('https://', 'http://', ''),
    fc.constantFrom('ops', 'me'),
    password,
    fc.constantFrom('email.us-east-1.amazonaws.com', '127.0.0.1:4566', 'proxy.corp'),
  )
  .map(([scheme, user, pw, host]) => `${scheme}${user}:${pw}@${host}`);

/** Strings a user might put anywhere: secret-looking keys, passwords in URLs, unicode, huge, empty. */
export const nastyString = fc.oneof(
  secretKey,
  secretKey.map((s) => `key: ${s}`),
  userInfoUrl,
  fc.constantFrom(...PROTOTYPE_NAMES),
  fc.constantFrom(
    '',
    ' ',
    '\n',
    '-',
    '--',
    '*',
    '?',
    'ses/*',
    '\u0000',
    '\u202e',
    '😀',
    'ä'.repeat(300),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 20 }),
);

export const nastyNumber = fc.oneof(
  fc.constantFrom(0, -1, 1.5, 2e11, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, 65536, 300.0001),
  fc.double(),
  fc.integer(),
);

/** Lines of `text` that leak: a planted secret, a stack frame, or an uncaught error type. */
export function leaks(text: string): string[] {
  const found = ALL_SECRETS.filter((secret) => text.includes(secret)).map((s) => `secret ${s}`);
  if (/^\s+at .+:\d+:\d+\)?$/m.test(text)) found.push('a stack trace');
  if (/\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/.test(text))
    found.push('an error type name');
  return found;
}
