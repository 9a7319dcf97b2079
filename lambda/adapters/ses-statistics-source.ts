import { GetSendQuotaCommand, GetSendStatisticsCommand, SESClient } from '@aws-sdk/client-ses';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { AwsCredentialIdentityProvider, RetryStrategyV2 } from '@smithy/types';
import type { Connection } from '../config/schema.ts';
import type { SendDataPoint, SendQuota } from '../core/datasets.ts';
import { type SesAction, SourceCallError, type StatisticsSource } from '../core/ports.ts';
import { describeAwsError } from './aws-errors.ts';
import type { SecretReader } from './secrets.ts';

export interface SesSourceOptions {
  readonly secrets: SecretReader;
  /** Replaces the standard retry strategy (tests use one without backoff delays). */
  readonly retryStrategy?: RetryStrategyV2;
}

/**
 * The SES statistics source over one connection. Its SDK client is built on first use (a proxy
 * password may have to be read first) and then reused for every call.
 */
export class SesStatisticsSource implements StatisticsSource {
  readonly paceKey: string;
  private readonly client: () => Promise<SESClient>;
  private built: SESClient | undefined;

  constructor(connection: Connection, options: SesSourceOptions) {
    this.paceKey = paceKeyOf(connection);
    this.client = once(async () => {
      this.built = await createSesClient(connection, options);
      return this.built;
    });
  }

  getSendQuota(): Promise<SendQuota> {
    return this.call('GetSendQuota', async () => {
      const out = await (await this.client()).send(new GetSendQuotaCommand({}));
      return {
        max24HourSend: required(out.Max24HourSend, 'Max24HourSend'),
        maxSendRate: required(out.MaxSendRate, 'MaxSendRate'),
        sentLast24Hours: required(out.SentLast24Hours, 'SentLast24Hours'),
      };
    });
  }

  getSendStatistics(): Promise<SendDataPoint[]> {
    return this.call('GetSendStatistics', async () => {
      const out = await (await this.client()).send(new GetSendStatisticsCommand({}));
      return (out.SendDataPoints ?? []).map((p) => ({
        timestamp: validDate(p.Timestamp),
        deliveryAttempts: p.DeliveryAttempts ?? 0,
        bounces: p.Bounces ?? 0,
        complaints: p.Complaints ?? 0,
        rejects: p.Rejects ?? 0,
      }));
    });
  }

  destroy(): void {
    this.built?.destroy();
  }

  private async call<T>(action: SesAction, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new SourceCallError(action, describeAwsError(error, 'SES'), { cause: error });
    }
  }
}

class MissingFieldError extends Error {
  constructor(field: string) {
    super(`malformed response from SES: ${field} is missing or not valid`);
    this.name = 'MissingFieldError';
  }
}

function required(value: number | undefined, field: string): number {
  if (value === undefined || !Number.isFinite(value)) throw new MissingFieldError(field);
  return value;
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

async function createSesClient(c: Connection, options: SesSourceOptions): Promise<SESClient> {
  const requestHandler = new NodeHttpHandler(await handlerOptions(c, options.secrets));
  return new SESClient({
    region: c.region,
    endpoint: c.endpoint,
    customUserAgent: c.userAgent,
    maxAttempts: c.maxErrorRetry + 1,
    retryMode: 'standard',
    retryStrategy: options.retryStrategy,
    requestHandler,
    credentials: credentialsFor(c, options.secrets, requestHandler),
  });
}

function credentialsFor(
  c: Connection,
  secrets: SecretReader,
  requestHandler: NodeHttpHandler,
): AwsCredentialIdentityProvider | undefined {
  const creds = c.credentials;
  if (creds.type === 'role') return undefined;
  if (creds.type === 'assumeRole') {
    // Loaded only when a session assumes a role: STS code stays out of every other cold start.
    let provider: AwsCredentialIdentityProvider | undefined;
    return async (props) => {
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
    };
  }
  return once(async () => ({
    accessKeyId: creds.accessKeyId,
    secretAccessKey: await secrets.read(creds.secretAccessKey),
  }));
}

async function handlerOptions(
  c: Connection,
  secrets: SecretReader,
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
  if (c.proxy.passwordSecret !== undefined)
    proxy.password = encodeURIComponent(await secrets.read(c.proxy.passwordSecret));
  const agent = { proxy, keepAlive: true, timeout: timeoutMs };
  const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
  return { ...base, httpAgent: new HttpProxyAgent(agent), httpsAgent: new HttpsProxyAgent(agent) };
}

/** Caches the first successful result; a failure is retried on the next call. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
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
