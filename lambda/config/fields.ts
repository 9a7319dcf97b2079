import * as z from 'zod';

/** The building blocks of the config schema: field rules whose errors say what is allowed. */

/** Dataset and activity names: safe in a DynamoDB key, a URL path segment and a file name. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const NAME_RULE =
  '1-64 characters: letters, digits, "_", "-", "." (starting with a letter or digit)';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
export const PRINTABLE = /^[\x20-\x7e]+$/;

export const SES_V4_ONLY =
  'SES accepts only Signature Version 4 (HMAC-SHA256) since 2020-10-01 and rejects Signature Version 2 and 3';

/** Strict object whose unknown-field error lists the allowed fields. */
export function strict<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed}`
        : 'expected an object',
  });
}

/** A string matching `pattern`; any other value is refused with `expected <rule>`. */
export const text = (rule: string, pattern: RegExp) =>
  z.string({ error: `expected ${rule}` }).regex(pattern, `expected ${rule}`);

/** A whole number from `min` to `max`, refused with one message whatever is wrong. */
export function integer(min: number, max: number, rule = `an integer from ${min} to ${max}`) {
  const expected = `expected ${rule}`;
  return z.number({ error: expected }).int(expected).min(min, expected).max(max, expected);
}

/** A number from `min` to `max`. */
export function between(min: number, max: number, rule: string) {
  const expected = `expected ${rule}`;
  return z.number({ error: expected }).min(min, expected).max(max, expected);
}

export const nameSchema = text(NAME_RULE, NAME_PATTERN);

/**
 * A dataset or activity name, or a template holding `{account}`, `{region}` or `{session}`: a
 * template is checked against the name rule once expanded (expand.ts), where its values are known.
 */
export const nameTemplateSchema = z
  .string({ error: `expected ${NAME_RULE}` })
  .refine((v) => v.includes('{') || NAME_PATTERN.test(v), `expected ${NAME_RULE}`);

/** STS's rule for an external id; a session's shared `externalId` follows it too. */
export const externalIdSchema = text('2-1224 characters without spaces', /^[\w+=,.@:/-]{2,1224}$/);

/** An account id is text: as a JSON number, one starting with 0 would lose its leading zeros. */
export const accountIdSchema = text(
  'a 12-digit AWS account id in quotes, such as "111122223333"',
  /^\d{12}$/,
);

/** IAM's rule for a role name (no path). */
export const roleNameSchema = text(
  'an IAM role name: 1-64 letters, digits and +=,.@_-',
  /^[\w+=,.@-]{1,64}$/,
);

/** A list of values given once each; a repeat is refused at its own index, naming the first. */
export function uniqueList<T extends z.ZodType>(
  item: T,
  rule: string,
  field: string,
  key: (value: z.output<T>) => string = String,
) {
  return z
    .array(item, { error: `expected ${rule}` })
    .min(1, `expected ${rule}`)
    .superRefine((values, ctx) => {
      const first = new Map<string, number>();
      values.forEach((value, i) => {
        const k = key(value);
        const earlier = first.get(k);
        if (earlier === undefined) first.set(k, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: [i],
            input: k,
            message: `already listed at ${field}[${earlier}]; expected each once`,
          });
      });
    });
}

/** Where a secret value lives: a Secrets Manager secret (name or ARN, optional JSON key) or, in the CLI, an env var. */
export const secretRefSchema = z.union(
  [
    strict({
      secretId: text('a Secrets Manager secret name or ARN', /^\S{1,2048}$/).refine(
        (id) => !/[*?]/.test(id),
        'expected a Secrets Manager secret name or ARN without "*" or "?": a wildcard would widen the IAM grant to other secrets',
      ),
      jsonKey: text('the key of the value inside a JSON secret', /^\S{1,256}$/).optional(),
    }),
    strict({ env: text('an environment variable name', ENV_NAME) }),
  ],
  {
    error:
      'expected a secret reference {"secretId": "name-or-arn"} (optionally with "jsonKey") or {"env": "VAR"}; a secret value never belongs in the config',
  },
);

export const credentialsSchema = z.discriminatedUnion(
  'type',
  [
    strict({ type: z.literal('role') }),
    strict({
      type: z.literal('assumeRole'),
      roleArn: text('an IAM role ARN (arn:aws:iam::123456789012:role/name)', ROLE_ARN),
      externalId: externalIdSchema.optional(),
    }),
    strict({
      type: z.literal('keys'),
      accessKeyId: text('an access key id (16-128 upper-case letters and digits)', ACCESS_KEY_ID),
      secretAccessKey: secretRefSchema,
    }),
  ],
  { error: 'expected "type" to be one of "role", "assumeRole", "keys"' },
);

/** `4` (or `v4`); 2 and 3 are refused saying why. */
export const signatureVersionSchema = z
  .union([z.string(), z.number()], { error: 'expected 4' })
  .transform((value, ctx) => {
    const v = String(value).trim().toLowerCase().replace(/^v/, '');
    if (v === '4') return '4' as const;
    ctx.addIssue({
      code: 'custom',
      input: value,
      message: v === '2' || v === '3' ? `${SES_V4_ONLY}; use 4` : 'expected 4',
    });
    return z.NEVER;
  });

/** `HmacSHA256` in any case or spelling; HmacSHA1 is refused saying why. */
export const signatureMethodSchema = z
  .string({ error: 'expected HmacSHA256' })
  .transform((value, ctx) => {
    const v = value.trim().toLowerCase().replace(/[-_]/g, '');
    if (v === 'hmacsha256') return 'HmacSHA256' as const;
    ctx.addIssue({
      code: 'custom',
      input: value,
      message: v === 'hmacsha1' ? `${SES_V4_ONLY}; use HmacSHA256` : 'expected HmacSHA256',
    });
    return z.NEVER;
  });
