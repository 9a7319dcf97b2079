interface SdkErrorShape extends Error {
  readonly code?: string;
  readonly $metadata?: {
    readonly httpStatusCode?: number;
    readonly requestId?: string;
    readonly attempts?: number;
  };
  readonly $response?: { readonly statusCode?: number };
}

const ACCESS_DENIED =
  'access denied: IAM must allow these credentials ses:GetSendQuota and ses:GetSendStatistics';
const BAD_KEY = 'invalid access key id: AWS does not recognise this key';
const THROTTLED =
  'throttled by SES (it allows these actions once per second per account and region)';
const CLOCK =
  'request expired: the local clock differs from AWS time by more than 5 minutes; synchronise it (NTP)';

const HINTS: Readonly<Record<string, string>> = {
  AccessDenied: ACCESS_DENIED,
  AccessDeniedException: ACCESS_DENIED,
  InvalidClientTokenId: BAD_KEY,
  UnrecognizedClientException: BAD_KEY,
  SignatureDoesNotMatch:
    "signature does not match: the secret key is wrong for this access key id, or the signing region is not the endpoint's",
  IncompleteSignature: 'the request signature was incomplete',
  ExpiredToken: 'the session token has expired',
  ExpiredTokenException: 'the session token has expired',
  InvalidToken: 'invalid session token',
  Throttling: THROTTLED,
  ThrottlingException: THROTTLED,
  TooManyRequestsException: THROTTLED,
  RequestExpired: CLOCK,
  RequestTimeTooSkewed: CLOCK,
  CredentialsProviderError:
    'no AWS credentials: configure the default credential chain (environment, profile, SSO, instance or function role) or set "credentials"',
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
 * One line for an AWS SDK failure: what went wrong in words, the SDK's own code and message, and
 * how many attempts were made. Carries no secret: SDK errors hold none, and callers redact too.
 */
export function describeAwsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  return `${cause(e, status)}${suffix(e)}`;
}

function cause(e: SdkErrorShape, status: number | undefined): string {
  if (status === 407 || /Bad response: 407/.test(e.message)) {
    return 'the proxy refused the credentials (HTTP 407 Proxy Authentication Required): check the proxy user and password';
  }
  if (/Bad response: \d+/.test(e.message)) return `the proxy refused the connection (${e.message})`;
  const hint = HINTS[e.name];
  if (hint !== undefined) return `${hint} (${e.name}: ${firstLine(e.message)})`;
  if (/Region is missing/i.test(e.message))
    return 'no region: set "region" or "serviceUrl" (or AWS_REGION for the default)';
  if (e.name === 'TimeoutError' || /timed? ?out/i.test(e.message))
    return `no answer in time: ${firstLine(e.message).replace(/^@smithy\S* - \[\w+\] /, '')}`;
  if (e.code !== undefined && NETWORK_CODES.has(e.code))
    return `network error: ${firstLine(e.message)}`;
  if (
    /Deserialization error|Unexpected end|not well-formed|Unclosed|Invalid character/i.test(
      e.message,
    )
  ) {
    return `malformed response from SES${status === undefined ? '' : ` (HTTP ${status})`}: the body is not valid SES XML`;
  }
  if (status !== undefined && status >= 500)
    return `SES server error (HTTP ${status}, ${e.name}: ${firstLine(e.message)})`;
  return `${e.name}: ${firstLine(e.message)}`;
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
