/** Where SES calls go and which region signs them. */
export interface ResolvedEndpoint {
  /** Endpoint override (`scheme://host[:port]`); absent means the SDK's default for the region. */
  readonly endpoint?: string;
  /** Signing region; absent means the SDK's default region chain. */
  readonly region?: string;
}

export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const AWS_HOST = /^email(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com|api\.aws)$/;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Resolves the activity's `serviceUrl` (SERVICEURL) and `region`.
 * `email[-fips].<region>.amazonaws.com` and dual-stack `email[-fips].<region>.api.aws` infer the
 * region; any other host (a local endpoint, a VPC endpoint) needs an explicit region for signing.
 * Throws an Error whose message says what is wrong and what is allowed.
 */
export function resolveServiceUrl(
  serviceUrl: string | undefined,
  region: string | undefined,
): ResolvedEndpoint {
  if (serviceUrl === undefined) return region === undefined ? {} : { region };
  const trimmed = serviceUrl.trim();
  if (trimmed === '')
    throw new Error(
      'must not be empty; give an SES endpoint such as email.us-east-1.amazonaws.com',
    );
  const url = parseUrl(HAS_SCHEME.test(trimmed) ? trimmed : `https://${trimmed}`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(
      `scheme "${url.protocol.slice(0, -1)}" is not allowed; use https (default) or http`,
    );
  if (url.username !== '' || url.password !== '')
    throw new Error('must not contain a user or password');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '')
    throw new Error(
      'must be a host with an optional scheme and port, without a path, query or fragment',
    );
  const endpoint = `${url.protocol}//${url.host}`;
  const inferred = AWS_HOST.exec(url.hostname)?.[1];
  if (inferred === undefined) {
    if (region === undefined)
      throw new Error(
        `host "${url.host}" is not an SES endpoint (email.<region>.amazonaws.com, email-fips.<region>.amazonaws.com, email.<region>.api.aws), so the signing region cannot be inferred; set "region" as well`,
      );
    return { endpoint, region };
  }
  if (!REGION_PATTERN.test(inferred))
    throw new Error(`"${inferred}" in host "${url.host}" is not an AWS region`);
  if (url.protocol === 'http:')
    throw new Error(`SES endpoints accept only https; use https://${url.host}`);
  if (region !== undefined && region !== inferred)
    throw new Error(
      `host "${url.host}" is in region ${inferred} but region is "${region}"; drop "region" or make them agree`,
    );
  return { endpoint, region: inferred };
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new Error('is not a valid URL or host name');
  }
}

/**
 * Why `text` cannot be an endpoint URL (`http(s)://host[:port]`, scheme optional, https by
 * default), or undefined when it can. Used for endpoints other than SES's (CloudWatch).
 */
export function endpointUrlProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '')
    return 'must not be empty; give a URL such as https://monitoring.us-east-1.amazonaws.com';
  let url: URL;
  try {
    url = parseUrl(HAS_SCHEME.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch (error) {
    return (error as Error).message;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `scheme "${url.protocol.slice(0, -1)}" is not allowed; use https (default) or http`;
  if (url.username !== '' || url.password !== '') return 'must not contain a user or password';
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '')
    return 'must be a host with an optional scheme and port, without a path, query or fragment';
  return undefined;
}

/** `scheme://host[:port]` of a URL `endpointUrlProblem` accepts. */
export function endpointOf(text: string): string {
  const trimmed = text.trim();
  const url = new URL(HAS_SCHEME.test(trimmed) ? trimmed : `https://${trimmed}`);
  return `${url.protocol}//${url.host}`;
}

/**
 * A host of AWS's own (`*.amazonaws.com`, `*.api.aws`, `*.amazonaws.com.cn`): an SES endpoint or
 * an SES VPC endpoint, which serve SES only. Any other host (a local endpoint) may serve more.
 */
export function isAwsHost(endpoint: string): boolean {
  return /(^|\.)(amazonaws\.com|api\.aws|amazonaws\.com\.cn)$/.test(new URL(endpoint).hostname);
}
