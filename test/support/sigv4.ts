/**
 * Server-side AWS Signature Version 4 verification for test fakes.
 *
 * Written from the published SigV4 specification rather than with the SDK's signer, so that a
 * request the SDK signs wrongly fails here instead of being checked against the same bug.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const ALGORITHM = 'AWS4-HMAC-SHA256';
const DEFAULT_MAX_SKEW_MS = 5 * 60_000;

/** The parts of an HTTP request that take part in the signature. */
export interface SignedRequest {
  method: string;
  /** Path as it appeared on the wire (still percent-encoded), without the query. */
  path: string;
  /** Raw query string without the leading `?` (empty when there is none). */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type SigV4ErrorCode =
  | 'IncompleteSignature'
  | 'InvalidClientTokenId'
  | 'SignatureDoesNotMatch'
  | 'RequestExpired';

export type SigV4Result =
  | { ok: true; accessKeyId: string; sessionToken?: string }
  | { ok: false; code: SigV4ErrorCode; message: string };

export interface SigV4Options {
  /** Signing name the credential scope must carry, e.g. `ses` or `sts`. */
  service: string;
  region: string;
  /** The verifier's notion of the current time. */
  now: Date;
  /** Largest accepted distance between `x-amz-date` and `now`; default five minutes. */
  maxSkewMs?: number;
}

/** The fields of an `Authorization: AWS4-HMAC-SHA256 …` header. */
export interface ParsedAuthorization {
  accessKeyId: string;
  /** Credential scope: `yyyymmdd`, region, service and the `aws4_request` terminator. */
  scope: { date: string; region: string; service: string; terminator: string };
  signedHeaders: string[];
  signature: string;
}

/** Parses a SigV4 `Authorization` header; `undefined` when it is absent or malformed. */
export function parseAuthorization(value: string | undefined): ParsedAuthorization | undefined {
  if (!value?.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const [accessKeyId, date, region, service, terminator, ...rest] = (
    fields.get('Credential') ?? ''
  ).split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !date || !region || !service || !terminator || rest.length > 0) {
    return undefined;
  }
  if (!signedHeaders || !signature) return undefined;
  return {
    accessKeyId,
    scope: { date, region, service, terminator },
    signedHeaders: signedHeaders.split(';'),
    signature,
  };
}

/**
 * Verifies a SigV4 header-signed request.
 *
 * @param lookupSecret returns the secret access key for an access key id, or `undefined` when the
 *   key is unknown (answered as `InvalidClientTokenId`).
 */
export function verifySigV4(
  req: SignedRequest,
  lookupSecret: (accessKeyId: string) => string | undefined,
  opts: SigV4Options,
): SigV4Result {
  const headers = lowerCaseHeaders(req.headers);
  const auth = parseAuthorization(headers.get('authorization'));
  if (!auth) return fail('IncompleteSignature', MALFORMED_AUTHORIZATION);
  const amzDate = headers.get('x-amz-date') ?? '';
  const problem =
    checkDate(amzDate) ??
    checkSignedHeaders(auth, headers) ??
    checkScope(auth, amzDate, opts) ??
    checkSkew(amzDate, opts.now, opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  if (problem) return problem;
  const secret = lookupSecret(auth.accessKeyId);
  if (secret === undefined) return fail('InvalidClientTokenId', INVALID_TOKEN);
  return checkSignature({ req, headers, auth, amzDate, secret, opts });
}

const MALFORMED_AUTHORIZATION = `Authorization header requires ${ALGORITHM} Credential, SignedHeaders and Signature.`;
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

interface Verification {
  req: SignedRequest;
  headers: Map<string, string>;
  auth: ParsedAuthorization;
  amzDate: string;
  secret: string;
  opts: SigV4Options;
}

function checkSignature({ req, headers, auth, amzDate, secret, opts }: Verification): SigV4Result {
  const bodyHash = sha256Hex(req.body);
  const declaredHash = headers.get('x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== bodyHash) {
    return fail(
      'SignatureDoesNotMatch',
      'The provided x-amz-content-sha256 header does not match what was computed.',
    );
  }
  const canonical = canonicalRequest(req, headers, auth.signedHeaders, bodyHash);
  const scope = [auth.scope.date, opts.region, opts.service, 'aws4_request'].join('/');
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = signingKey(secret, auth.scope.date, opts.region, opts.service);
  if (!sameHex(hmac(key, stringToSign).toString('hex'), auth.signature)) {
    return fail('SignatureDoesNotMatch', SIGNATURE_MISMATCH);
  }
  const sessionToken = headers.get('x-amz-security-token');
  return sessionToken === undefined
    ? { ok: true, accessKeyId: auth.accessKeyId }
    : { ok: true, accessKeyId: auth.accessKeyId, sessionToken };
}

function fail(code: SigV4ErrorCode, message: string): SigV4Result {
  return { ok: false, code, message };
}

// Repeated headers are joined with ',' as the spec asks; Node's `headers` would join with ', '.
function lowerCaseHeaders(headers: SignedRequest['headers']): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      out.set(name.toLowerCase(), Array.isArray(value) ? value.join(',') : value);
  }
  return out;
}

function checkSignedHeaders(
  auth: ParsedAuthorization,
  headers: Map<string, string>,
): SigV4Result | undefined {
  if (!auth.signedHeaders.includes('host')) {
    return fail('IncompleteSignature', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const missing = auth.signedHeaders.find((name) => !headers.has(name));
  return missing === undefined
    ? undefined
    : fail('IncompleteSignature', `Signed header '${missing}' is not present in the request.`);
}

function checkScope(auth: ParsedAuthorization, amzDate: string, opts: SigV4Options) {
  const { date, region, service, terminator } = auth.scope;
  if (date !== amzDate.slice(0, 8)) {
    return fail(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}'`,
    );
  }
  if (region !== opts.region) {
    return fail(
      'SignatureDoesNotMatch',
      `Credential should be scoped to a valid region. Expected '${opts.region}', got '${region}'.`,
    );
  }
  if (service !== opts.service) {
    return fail(
      'SignatureDoesNotMatch',
      `Credential should be scoped to correct service: '${opts.service}'.`,
    );
  }
  if (terminator !== 'aws4_request') {
    return fail(
      'SignatureDoesNotMatch',
      "Credential should be scoped with a valid terminator: 'aws4_request'.",
    );
  }
  return undefined;
}

function checkDate(amzDate: string): SigV4Result | undefined {
  return parseAmzDate(amzDate)
    ? undefined
    : fail(
        'IncompleteSignature',
        "Authorization header requires existence of a valid 'X-Amz-Date' header.",
      );
}

// Same wording as AWS, which helps when a test failure message is all one has to go on.
function checkSkew(amzDate: string, now: Date, maxSkewMs: number): SigV4Result | undefined {
  const drift = (parseAmzDate(amzDate)?.getTime() ?? 0) - now.getTime();
  const minutes = `${maxSkewMs / 60_000} min.`;
  if (drift < -maxSkewMs) {
    const limit = amzDateOf(new Date(now.getTime() - maxSkewMs));
    return fail(
      'RequestExpired',
      `Signature expired: ${amzDate} is now earlier than ${limit} (${amzDateOf(now)} - ${minutes})`,
    );
  }
  if (drift > maxSkewMs) {
    const limit = amzDateOf(new Date(now.getTime() + maxSkewMs));
    return fail(
      'RequestExpired',
      `Signature not yet current: ${amzDate} is still later than ${limit} (${amzDateOf(now)} + ${minutes})`,
    );
  }
  return undefined;
}

function canonicalRequest(
  req: SignedRequest,
  headers: Map<string, string>,
  signedHeaders: string[],
  payloadHash: string,
): string {
  const names = [...signedHeaders].sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${(headers.get(name) ?? '').replace(/\s+/g, ' ').trim()}\n`)
    .join('');
  return [
    req.method.toUpperCase(),
    canonicalUri(req.path),
    canonicalQuery(req.query),
    canonicalHeaders,
    names.join(';'),
    payloadHash,
  ].join('\n');
}

// Non-S3 services normalise the path and encode each segment again, i.e. twice in total.
function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '..') segments.pop();
    else if (segment !== '' && segment !== '.') segments.push(uriEncode(segment));
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.join('/')}${trailing}`;
}

function canonicalQuery(query: string): string {
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const [key, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return [uriEncode(safeDecode(key)), uriEncode(safeDecode(value))] as const;
    })
    .sort(([ka, va], [kb, vb]) => compare(ka, kb) || compare(va, vb))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

// A malformed escape cannot have been produced by a correct signer; keeping it raw lets the
// signature comparison, rather than an exception, reject the request.
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// RFC 3986 unreserved characters stay; encodeURIComponent leaves !'()* alone, SigV4 does not.
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function parseAmzDate(value: string): Date | undefined {
  const iso = value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  const date = new Date(iso);
  // The round trip rejects both unparsable input and impossible dates such as 20260231.
  return !Number.isNaN(date.getTime()) && amzDateOf(date) === value ? date : undefined;
}

function amzDateOf(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  return hmac(hmac(hmac(kDate, region), service), 'aws4_request');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function sameHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
