import type { CloudWatchClient, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { GetSendQuotaCommand, GetSendStatisticsCommand, SESClient } from '@aws-sdk/client-ses';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  MiddlewareStack,
  RetryStrategyV2,
} from '@smithy/types';
import type { Connection } from '../config/schema.ts';
import type { AccountState, ReputationPoint, SendDataPoint, SendQuota } from '../core/datasets.ts';
import { type SesAction, SourceError } from '../core/errors.ts';
import type { Answered, StatisticsSource } from '../core/ports.ts';
import { type AwsService, describeAwsError } from './aws-errors.ts';
import type { SecretReader } from './secrets.ts';

export interface SesSourceOptions {
  readonly secrets: SecretReader;
  /** Replaces the standard retry strategy (tests use one without backoff delays). */
  readonly retryStrategy?: RetryStrategyV2;
  /** Tells when secrets read are {@link SECRET_MAX_AGE_MS} old. @default the host clock */
  readonly clock?: { now(): Date };
}

/** Secrets are read again at least this often, so a rotation reaches a warm container. */
export const SECRET_MAX_AGE_MS = 15 * 60_000;

/** Error names that mean the credentials baked into the client may have been rotated. */
const AUTH_FAILURES = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'UnrecognizedClient',
  'UnrecognizedClientException',
]);

/** What every SDK client of a generation is built with, but its endpoint. */
interface SharedClientConfig {
  readonly region: string | undefined;
  readonly customUserAgent: string;
  readonly maxAttempts: number;
  readonly retryMode: 'standard';
  readonly retryStrategy: RetryStrategyV2 | undefined;
  readonly requestHandler: NodeHttpHandler;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
}

/**
 * The SDK clients built from one reading of the secrets (the key, the proxy password): SES's,
 * and, on first use by an account dataset, SES API v2's and CloudWatch's over the same request
 * handler (so the same proxy, timeouts and sockets) and credentials.
 */
interface Generation {
  readonly client: SESClient;
  readonly shared: SharedClientConfig;
  sesV2?: SESv2Client;
  cloudWatch?: CloudWatchClient;
  readonly secrets: readonly (string | undefined)[];
  /** Host time (ms) the secrets were read. */
  readonly readAt: number;
  inFlight: number;
  retired: boolean;
}

interface Slot {
  ready: Promise<Generation>;
  generation?: Generation;
}

/** Secrets a released client was built with, kept to build the next one without a read. */
interface KeptSecrets {
  readonly secrets: readonly (string | undefined)[];
  readonly readAt: number;
}

/**
 * The SES statistics source over one connection. Its SDK client is built on first use (the
 * secret key and proxy password are read first) and reused; it is dropped and built again from
 * freshly read secrets when a call fails on its credentials, and when they are 15 minutes old.
 * `release()` destroys the client (its sockets and buffers) between runs: a collector holds only
 * the clients of the sources in flight, and the next use builds one again from the secrets
 * already read (read again once 15 minutes old) and the role credentials already assumed.
 */
export class SesStatisticsSource implements StatisticsSource {
  readonly paceKey: string;
  private readonly usesSecrets: boolean;
  private readonly now: () => number;
  private slot: Slot | undefined;
  private builds = 0;
  private kept: KeptSecrets | undefined;
  /** The assumed role's temporary credentials, kept across clients until they near expiry. */
  private readonly assumed: AssumedIdentity = {};

  constructor(
    private readonly connection: Connection,
    private readonly options: SesSourceOptions,
  ) {
    this.paceKey = paceKeyOf(connection);
    this.usesSecrets =
      connection.credentials.type === 'keys' || connection.proxy?.passwordSecret !== undefined;
    const clock = options.clock;
    this.now = clock === undefined ? Date.now : () => clock.now().getTime();
  }

  getSendQuota(): Promise<Answered<SendQuota>> {
    return this.call('GetSendQuota', async ({ client }) => {
      const command = new GetSendQuotaCommand({});
      const serverTime = captureServerTime(command);
      const out = await client.send(command);
      return {
        value: {
          max24HourSend: required(out.Max24HourSend, 'Max24HourSend'),
          maxSendRate: required(out.MaxSendRate, 'MaxSendRate'),
          sentLast24Hours: required(out.SentLast24Hours, 'SentLast24Hours'),
        },
        serverTime: serverTime(),
      };
    });
  }

  getSendStatistics(): Promise<Answered<SendDataPoint[]>> {
    return this.call('GetSendStatistics', async ({ client }) => {
      const command = new GetSendStatisticsCommand({});
      const serverTime = captureServerTime(command);
      const out = await client.send(command);
      return {
        value: (out.SendDataPoints ?? []).map((p) => ({
          timestamp: validDate(p.Timestamp),
          deliveryAttempts: p.DeliveryAttempts ?? 0,
          bounces: p.Bounces ?? 0,
          complaints: p.Complaints ?? 0,
          rejects: p.Rejects ?? 0,
        })),
        serverTime: serverTime(),
      };
    });
  }

  getAccount(): Promise<Answered<AccountState>> {
    return this.call('GetAccount', async (generation) => {
      const sdk = await loadSesV2();
      generation.sesV2 ??= new sdk.SESv2Client({
        ...generation.shared,
        endpoint: this.connection.endpoint,
      });
      const command = new sdk.GetAccountCommand({});
      const serverTime = captureServerTime(command);
      const out = await generation.sesV2.send(command);
      const review = out.Details?.ReviewDetails;
      return {
        value: {
          enforcementStatus: requiredString(out.EnforcementStatus, 'EnforcementStatus'),
          sendingEnabled: requiredBoolean(out.SendingEnabled, 'SendingEnabled'),
          productionAccessEnabled: requiredBoolean(
            out.ProductionAccessEnabled,
            'ProductionAccessEnabled',
          ),
          ...(review?.Status === undefined ? {} : { reviewStatus: review.Status }),
          ...(review?.CaseId === undefined ? {} : { reviewCaseId: review.CaseId }),
          max24HourSend: required(out.SendQuota?.Max24HourSend, 'SendQuota.Max24HourSend'),
          maxSendRate: required(out.SendQuota?.MaxSendRate, 'SendQuota.MaxSendRate'),
        },
        serverTime: serverTime(),
      };
    });
  }

  getReputation(from: Date, to: Date): Promise<Answered<ReputationPoint[]>> {
    return this.call('GetMetricData', async (generation) => {
      const sdk = await loadCloudWatch();
      generation.cloudWatch ??= new sdk.CloudWatchClient({
        ...generation.shared,
        endpoint: this.connection.cloudWatchEndpoint,
      });
      const points = new Map<number, { bounceRate?: number; complaintRate?: number }>();
      let serverTime: Date | undefined;
      let nextToken: string | undefined;
      for (let page = 1; ; page++) {
        const command = new sdk.GetMetricDataCommand({
          MetricDataQueries: REPUTATION_QUERIES,
          StartTime: from,
          EndTime: to,
          NextToken: nextToken,
        });
        const pageTime = captureServerTime(command);
        const out = await generation.cloudWatch.send(command);
        serverTime = pageTime() ?? serverTime;
        for (const result of out.MetricDataResults ?? []) mergeResult(points, result, from, to);
        nextToken = out.NextToken === '' ? undefined : out.NextToken;
        if (nextToken === undefined) break;
        if (page >= MAX_METRIC_PAGES)
          throw new MissingFieldError(
            `NextToken (still set after ${MAX_METRIC_PAGES} pages)`,
            'CloudWatch',
          );
      }
      return {
        value: [...points.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([t, rates]) => ({ timestamp: new Date(t), ...rates })),
        serverTime,
      };
    });
  }

  /** Destroys the client once its calls end; the next call builds one without reading secrets. */
  release(): void {
    const generation = this.slot?.generation;
    if (generation === undefined) return;
    this.kept = { secrets: generation.secrets, readAt: generation.readAt };
    this.drop(generation);
  }

  /** Destroys the client and forgets the secrets it was built with. */
  destroy(): void {
    const generation = this.slot?.generation;
    if (generation !== undefined) this.retire(generation);
    this.slot = undefined;
    this.kept = undefined;
  }

  private async call<T>(
    action: SesAction,
    send: (generation: Generation) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.sendRotating(send);
    } catch (error) {
      const service: AwsService = action === 'GetMetricData' ? 'CloudWatch' : 'SES';
      const message =
        error instanceof MissingFieldError
          ? error.message
          : describeAwsError(error, service, action);
      throw new SourceError(action, message, { cause: error });
    }
  }

  /**
   * Sends with the current client; when that fails on its credentials, reads the secrets again
   * and, if they changed (a rotation), sends once more with a client built from the new ones.
   */
  private async sendRotating<T>(send: (generation: Generation) => Promise<T>): Promise<T> {
    const used = await this.current();
    try {
      return await this.sendWith(used, send);
    } catch (error) {
      if (!this.usesSecrets || !isAuthFailure(error)) throw error;
      const fresh = await this.reread(used);
      if (fresh === undefined || sameSecrets(fresh, used)) throw error;
      return await this.sendWith(fresh, send);
    }
  }

  private async sendWith<T>(
    generation: Generation,
    send: (generation: Generation) => Promise<T>,
  ): Promise<T> {
    generation.inFlight++;
    try {
      return await send(generation);
    } finally {
      generation.inFlight--;
      if (generation.retired && generation.inFlight === 0) destroyClients(generation);
    }
  }

  /** The client to use now: built on first use, and again once its secrets are too old. */
  private current(): Promise<Generation> {
    const built = this.slot?.generation;
    if (this.usesSecrets && built !== undefined && this.now() - built.readAt >= SECRET_MAX_AGE_MS)
      this.drop(built);
    this.slot ??= this.build();
    return this.slot.ready;
  }

  /**
   * Drops `used` (unless a concurrent call already replaced it) and returns the client built from
   * secrets read again, or undefined when they cannot be read (the next call tries again).
   */
  private async reread(used: Generation): Promise<Generation | undefined> {
    this.drop(used);
    try {
      return await this.current();
    } catch {
      return undefined;
    }
  }

  private drop(generation: Generation): void {
    if (this.slot?.generation !== generation) return;
    this.slot = undefined;
    this.retire(generation);
  }

  private retire(generation: Generation): void {
    generation.retired = true;
    if (generation.inFlight === 0) destroyClients(generation);
  }

  private build(): Slot {
    const kept = this.kept;
    this.kept = undefined;
    const reuse =
      kept !== undefined && (!this.usesSecrets || this.now() - kept.readAt < SECRET_MAX_AGE_MS);
    // The first read may come from a cache in front of the store; every later one is a re-read
    // after a rotation or a refresh, so it must not.
    const fresh = this.builds++ > 0;
    const secrets = reuse
      ? Promise.resolve(kept)
      : readSecrets(this.connection, this.options.secrets, this.now(), fresh);
    const slot: Slot = {
      ready: secrets
        .then((read) => createGeneration(this.connection, this.options, read, this.assumed))
        .then(
          (generation) => {
            slot.generation = generation;
            return generation;
          },
          (error: unknown) => {
            if (this.slot === slot) this.slot = undefined;
            throw error;
          },
        ),
    };
    return slot;
  }
}

function isAuthFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return AUTH_FAILURES.has(error.name) || status === 407 || /Bad response: 407/.test(error.message);
}

function sameSecrets(a: Generation, b: Generation): boolean {
  return a.secrets.length === b.secrets.length && a.secrets.every((s, i) => s === b.secrets[i]);
}

/**
 * Records the HTTP `Date` header of the response this very command gets (the last attempt's),
 * on the command's own middleware stack so that concurrent calls on one client never mix.
 */
function captureServerTime<I extends object, O extends object>(command: {
  readonly middlewareStack: MiddlewareStack<I, O>;
}): () => Date | undefined {
  let serverTime: Date | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const headers = (result.response as { headers?: Record<string, string | undefined> }).headers;
      serverTime = dateOf(headers?.date ?? headers?.Date);
      return result;
    },
    { step: 'deserialize', name: 'captureServerTime' },
  );
  return () => serverTime;
}

function dateOf(header: string | undefined): Date | undefined {
  if (header === undefined) return undefined;
  const date = new Date(header);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

class MissingFieldError extends Error {
  constructor(field: string, service: AwsService = 'SES') {
    super(`malformed response from ${service}: ${field} is missing or not valid`);
    this.name = 'MissingFieldError';
  }
}

function required(value: number | undefined, field: string): number {
  if (value === undefined || !Number.isFinite(value)) throw new MissingFieldError(field);
  return value;
}

function requiredBoolean(value: boolean | undefined, field: string): boolean {
  if (typeof value !== 'boolean') throw new MissingFieldError(field);
  return value;
}

function requiredString(value: string | undefined, field: string): string {
  if (typeof value !== 'string' || value === '') throw new MissingFieldError(field);
  return value;
}

/** AWS's account-level reputation rates: published hourly, without dimensions, in AWS/SES. */
const REPUTATION_QUERIES = (
  [
    ['bounce', 'Reputation.BounceRate'],
    ['complaint', 'Reputation.ComplaintRate'],
  ] as const
).map(([Id, MetricName]) => ({
  Id,
  MetricStat: { Metric: { Namespace: 'AWS/SES', MetricName }, Period: 3600, Stat: 'Average' },
  ReturnData: true,
}));

/** Two weeks of two hourly series fit in one page; a token still set this late means a loop. */
const MAX_METRIC_PAGES = 100;

/** Adds one page's values of a query to the hours already read; a result may span pages. */
function mergeResult(
  points: Map<number, { bounceRate?: number; complaintRate?: number }>,
  result: MetricDataResult,
  from: Date,
  to: Date,
): void {
  const field =
    result.Id === 'bounce' ? 'bounceRate' : result.Id === 'complaint' ? 'complaintRate' : undefined;
  if (field === undefined) return;
  if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError')
    throw new MissingFieldError(
      `${result.Id} values (StatusCode ${result.StatusCode})`,
      'CloudWatch',
    );
  const timestamps = result.Timestamps ?? [];
  const values = result.Values ?? [];
  if (timestamps.length !== values.length)
    throw new MissingFieldError(
      `${result.Id} Values (${values.length} for ${timestamps.length} Timestamps)`,
      'CloudWatch',
    );
  timestamps.forEach((timestamp, i) => {
    const t = timestamp.getTime();
    const value = values[i];
    if (Number.isNaN(t) || value === undefined || !Number.isFinite(value))
      throw new MissingFieldError(`a ${result.Id} Timestamp or Value`, 'CloudWatch');
    if (t < from.getTime() || t >= to.getTime()) return;
    points.set(t, { ...points.get(t), [field]: value });
  });
}

/** Loaded only by a source with an account dataset: the SDK stays out of every other cold start. */
function loadSesV2() {
  return import('@aws-sdk/client-sesv2');
}

function loadCloudWatch() {
  return import('@aws-sdk/client-cloudwatch');
}

function destroyClients(generation: Generation): void {
  generation.client.destroy();
  generation.sesV2?.destroy();
  generation.cloudWatch?.destroy();
}

function validDate(value: Date | undefined): Date {
  if (value === undefined || Number.isNaN(value.getTime()))
    throw new MissingFieldError('a data point Timestamp');
  return value;
}

/** Same identity and region means the same SES rate limit (two identities of one account are not known to share it). */
function paceKeyOf(c: Connection): string {
  const who =
    c.credentials.type === 'role'
      ? 'default'
      : c.credentials.type === 'assumeRole'
        ? c.credentials.roleArn
        : c.credentials.accessKeyId;
  return `${who}@${c.region ?? 'default-region'}`;
}

/** The secret key and the proxy password a client is built with (undefined when not configured). */
async function readSecrets(
  c: Connection,
  read: SecretReader,
  readAt: number,
  fresh: boolean,
): Promise<KeptSecrets> {
  const secretKey =
    c.credentials.type === 'keys'
      ? await read.read(c.credentials.secretAccessKey, { fresh })
      : undefined;
  const proxyPassword =
    c.proxy?.passwordSecret === undefined
      ? undefined
      : await read.read(c.proxy.passwordSecret, { fresh });
  return { secrets: [secretKey, proxyPassword], readAt };
}

async function createGeneration(
  c: Connection,
  options: SesSourceOptions,
  { secrets, readAt }: KeptSecrets,
  assumed: AssumedIdentity,
): Promise<Generation> {
  const [secretKey, proxyPassword] = secrets;
  const requestHandler = new NodeHttpHandler(await handlerOptions(c, proxyPassword));
  const shared: SharedClientConfig = {
    region: c.region,
    customUserAgent: c.userAgent,
    maxAttempts: c.maxErrorRetry + 1,
    retryMode: 'standard',
    retryStrategy: options.retryStrategy,
    requestHandler,
    credentials: credentialsFor(c, secretKey, requestHandler, assumed),
  };
  const client = new SESClient({ ...shared, endpoint: c.endpoint });
  return { client, shared, secrets, readAt, inFlight: 0, retired: false };
}

/** A source's assumed-role credentials, shared by the clients it builds one after another. */
interface AssumedIdentity {
  identity?: AwsCredentialIdentity;
  /** The AssumeRole in flight: the SES, SES v2 and CloudWatch clients starting at once share it. */
  pending?: Promise<AwsCredentialIdentity>;
}

/** Assumed credentials are used until this close to their expiry (the SDK refreshes 5 min early too). */
const ASSUMED_REFRESH_MS = 5 * 60_000;

function credentialsFor(
  c: Connection,
  secretKey: string | undefined,
  requestHandler: NodeHttpHandler,
  assumed: AssumedIdentity,
): AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined {
  const creds = c.credentials;
  if (creds.type === 'role') return undefined;
  if (creds.type === 'assumeRole') {
    // Loaded only when a session assumes a role: STS code stays out of every other cold start.
    let provider: AwsCredentialIdentityProvider | undefined;
    return async (props) => {
      const kept = assumed.identity;
      const expiresAt = kept?.expiration?.getTime() ?? Number.NEGATIVE_INFINITY;
      if (
        kept !== undefined &&
        props?.forceRefresh !== true &&
        expiresAt - Date.now() > ASSUMED_REFRESH_MS
      )
        return kept;
      if (assumed.pending !== undefined && props?.forceRefresh !== true) return assumed.pending;
      const pending = (async () => {
        provider ??= (await import('@aws-sdk/credential-providers')).fromTemporaryCredentials({
          params: {
            RoleArn: creds.roleArn,
            ExternalId: creds.externalId,
            RoleSessionName: 'ses-stats',
            DurationSeconds: 900,
          },
          clientConfig: { region: c.region, requestHandler, customUserAgent: c.userAgent },
        });
        return provider(props);
      })();
      assumed.pending = pending;
      try {
        assumed.identity = await pending;
        return assumed.identity;
      } finally {
        if (assumed.pending === pending) assumed.pending = undefined;
      }
    };
  }
  return { accessKeyId: creds.accessKeyId, secretAccessKey: secretKey ?? '' };
}

async function handlerOptions(
  c: Connection,
  proxyPassword: string | undefined,
): Promise<NodeHttpHandlerOptions> {
  const timeoutMs = Math.round(c.timeoutSeconds * 1000);
  const base = {
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    throwOnRequestTimeout: true,
  };
  if (c.proxy === undefined) return base;
  const proxy = new URL(`http://${c.proxy.host}:${c.proxy.port}`);
  if (c.proxy.user !== undefined) proxy.username = encodeURIComponent(c.proxy.user);
  if (proxyPassword !== undefined) proxy.password = encodeURIComponent(proxyPassword);
  const agent = { proxy, keepAlive: true, timeout: timeoutMs };
  const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
  return { ...base, httpAgent: new HttpProxyAgent(agent), httpsAgent: new HttpsProxyAgent(agent) };
}

/** One source per session (activities sharing a session share its client), one per inline connection. */
export function sourcesFor<A extends { readonly source: string; readonly connection: Connection }>(
  activities: readonly A[],
  options: SesSourceOptions,
): Array<{ activity: A; source: SesStatisticsSource }> {
  const bySession = new Map<string, SesStatisticsSource>();
  return activities.map((activity) => {
    const shared = activity.source === 'inline' ? undefined : bySession.get(activity.source);
    const source = shared ?? new SesStatisticsSource(activity.connection, options);
    if (activity.source !== 'inline') bySession.set(activity.source, source);
    return { activity, source };
  });
}
