interface SdkErrorShape extends Error {
  readonly code?: string;
  readonly $metadata?: {
    readonly httpStatusCode?: number;
    readonly requestId?: string;
    readonly attempts?: number;
  };
  readonly $response?: { readonly statusCode?: number };
}

/** The AWS services this project calls; an error is worded for the one that answered it. */
export type AwsService = 'SES' | 'CloudWatch' | 'DynamoDB';

/** What an error's wording says about each service. */
interface ServiceWords {
  readonly accessDenied: (action: string | undefined) => string;
  readonly throttled: string;
  readonly throttleCodes: readonly string[];
  /** What a well-formed body is: SES v1 speaks XML, its API v2 JSON. */
  readonly body: (action: string | undefined) => string;
  readonly noRegion: string;
  readonly noCredentials: string;
}

const CHAIN =
  'configure the default credential chain (environment, profile, SSO, instance or function role)';

const WORDS: Readonly<Record<AwsService, ServiceWords>> = {
  SES: {
    // Each call needs its own action, so naming the one that failed tells what to allow.
    accessDenied: (action) =>
      `access denied: IAM must allow these credentials ${action === undefined ? 'the ses: action of this call' : `ses:${action}`}`,
    throttled: 'throttled by SES (it allows these actions once per second per account and region)',
    throttleCodes: ['Throttling', 'ThrottlingException', 'TooManyRequestsException'],
    body: (action) => (action === 'GetAccount' ? 'SES JSON' : 'SES XML'),
    noRegion: 'no region: set "region" or "serviceUrl" (or AWS_REGION for the default)',
    noCredentials: `no AWS credentials: ${CHAIN} or set "credentials"`,
  },
  CloudWatch: {
    accessDenied: (action) =>
      `access denied: IAM must allow these credentials cloudwatch:${action ?? 'GetMetricData'}`,
    throttled:
      'throttled by CloudWatch (its request rate for this account and region was exceeded beyond the retries)',
    throttleCodes: ['Throttling', 'ThrottlingException', 'TooManyRequestsException'],
    body: () => 'CloudWatch JSON',
    noRegion: 'no region: set "region" or "serviceUrl" (or AWS_REGION for the default)',
    noCredentials: `no AWS credentials: ${CHAIN} or set "credentials"`,
  },
  DynamoDB: {
    accessDenied: (action) =>
      `access denied: IAM must allow these credentials ${action === undefined ? 'the dynamodb: actions of this call' : `dynamodb:${action}`} on the table`,
    throttled:
      'throttled by DynamoDB (the table or account throughput was exceeded beyond the retries)',
    throttleCodes: [
      'ThrottlingException',
      'ProvisionedThroughputExceededException',
      'RequestLimitExceeded',
      'TooManyRequestsException',
    ],
    body: () => 'DynamoDB JSON',
    noRegion: 'no region for the DynamoDB table: set AWS_REGION (or --table-region)',
    noCredentials: `no AWS credentials for DynamoDB: ${CHAIN}`,
  },
};

const BAD_KEY = 'invalid access key id: AWS does not recognise this key';
const CLOCK =
  'request expired: the local clock differs from AWS time by more than 5 minutes; synchronise it (NTP)';

/** Hints that read the same whichever service answered. */
const HINTS: Readonly<Record<string, string>> = {
  InvalidClientTokenId: BAD_KEY,
  UnrecognizedClientException: BAD_KEY,
  SignatureDoesNotMatch:
    "signature does not match: the secret key is wrong for this access key id, or the signing region is not the endpoint's",
  IncompleteSignature: 'the request signature was incomplete',
  IncompleteSignatureException: 'the request signature was incomplete',
  ExpiredToken: 'the session token has expired',
  ExpiredTokenException: 'the session token has expired',
  InvalidToken: 'invalid session token',
  RequestExpired: CLOCK,
  RequestTimeTooSkewed: CLOCK,
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);

/**
 * One line for an AWS SDK failure of `service` (and, when known, its `action`): what went wrong in
 * words, the SDK's own code and message, and how many attempts were made. Carries no secret: SDK
 * errors hold none, and callers redact too.
 */
export function describeAwsError(error: unknown, service: AwsService, action?: string): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  return `${cause(e, status, WORDS[service], service, action)}${suffix(e)}`;
}

function cause(
  e: SdkErrorShape,
  status: number | undefined,
  words: ServiceWords,
  service: AwsService,
  action: string | undefined,
): string {
  if (status === 407 || /Bad response: 407/.test(e.message)) {
    return 'the proxy refused the credentials (HTTP 407 Proxy Authentication Required): check the proxy user and password';
  }
  if (/Bad response: \d+/.test(e.message)) return `the proxy refused the connection (${e.message})`;
  const hint = hintFor(e.name, e.message, words, action);
  if (hint !== undefined) return `${hint} (${e.name}: ${firstLine(e.message)})`;
  if (/Region is missing/i.test(e.message)) return words.noRegion;
  if (e.name === 'TimeoutError' || /timed? ?out/i.test(e.message))
    return `no answer in time: ${firstLine(e.message).replace(/^@smithy\S* - \[\w+\] /, '')}`;
  if (e.code !== undefined && NETWORK_CODES.has(e.code))
    return `network error: ${firstLine(e.message)}`;
  if (
    /Deserialization error|Unexpected end|not well-formed|Unclosed|Invalid character|Unexpected token|is not valid JSON/i.test(
      e.message,
    )
  ) {
    return `malformed response from ${service}${status === undefined ? '' : ` (HTTP ${status})`}: the body is not valid ${words.body(action)}`;
  }
  if (status !== undefined && status >= 500)
    return `${service} server error (HTTP ${status}, ${e.name}: ${firstLine(e.message)})`;
  return `${e.name}: ${firstLine(e.message)}`;
}

function hintFor(
  name: string,
  message: string,
  words: ServiceWords,
  action: string | undefined,
): string | undefined {
  if (name === 'AccessDenied' || name === 'AccessDeniedException')
    return words.accessDenied(action);
  if (words.throttleCodes.includes(name)) return words.throttled;
  if (name === 'CredentialsProviderError') return words.noCredentials;
  // JSON services (SES API v2) answer a bad signature and an expired one with this one code.
  if (name === 'InvalidSignatureException')
    return /expired|not yet current/i.test(message) ? CLOCK : HINTS.SignatureDoesNotMatch;
  return Object.hasOwn(HINTS, name) ? HINTS[name] : undefined;
}

function suffix(e: SdkErrorShape): string {
  const parts: string[] = [];
  const attempts = e.$metadata?.attempts;
  if (attempts !== undefined && attempts > 1) parts.push(`after ${attempts} attempts`);
  if (e.$metadata?.requestId !== undefined) parts.push(`request id ${e.$metadata.requestId}`);
  return parts.length > 0 ? ` [${parts.join(', ')}]` : '';
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}
