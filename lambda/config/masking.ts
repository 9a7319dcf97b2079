/** A received value for an error message: JSON, secrets masked, user info stripped, at most 80 characters. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let json: string;
  try {
    json =
      typeof value === 'number' || typeof value === 'bigint'
        ? String(value)
        : (JSON.stringify(value, hideSecretFields) ?? `a ${typeof value}`);
  } catch {
    json = `an unprintable ${typeof value}`;
  }
  const safe = maskSecrets(json);
  return safe.length > 80 ? `${safe.slice(0, 77)}...` : safe;
}

/** A secret value pasted under a secret's field, deep in an echoed object, is not shown. */
function hideSecretFields(key: string, value: unknown): unknown {
  return /secret|password|pwd/i.test(key) && typeof value !== 'object' ? '***' : value;
}

/** 40 or more base64 characters in a row: what an AWS secret access key looks like. */
const SECRET_LOOKING = /[A-Za-z0-9/+=]{40,}/g;
/** `scheme://user:password@` or `user:password@`: the user info of a URL. */
const USER_INFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s]*@|(^|[\s"'(])[^\s"'(@:/]*:(?!\/\/)[^\s]*@/gi;

/** Longer texts are cut before masking, which keeps the masking quick on any input. */
const MASKED_LENGTH = 2000;

/**
 * Masks what may be a secret in text shown to a user: secret-looking runs keep their first 4
 * characters, URL user info becomes `***`. A long text is cut, and the fragment the cut runs
 * through is dropped whole: it may be the start of a secret.
 */
export function maskSecrets(text: string): string {
  const bounded =
    text.length > MASKED_LENGTH
      ? `${text.slice(0, MASKED_LENGTH).replace(/[^\s"'(]*$/, '')}...`
      : text;
  return bounded
    .replace(SECRET_LOOKING, (run) => `${run.slice(0, 4)}...(${run.length} characters hidden)`)
    .replace(USER_INFO, (_, scheme?: string, before?: string) => `${scheme ?? before ?? ''}***@`);
}
