/**
 * A fake Amazon SES (Query protocol, API version 2010-12-01) with a minimal STS `AssumeRole`, SES
 * API v2 `GetAccount` (REST/JSON, `GET /v2/email/account`) and CloudWatch `GetMetricData` (JSON
 * 1.0, ./fake-cloudwatch.ts), for tests that drive the real AWS SDK against a local HTTP server:
 * one URL serves every API the activity calls. `startFakeCloudWatch` serves CloudWatch alone.
 *
 * It verifies every request's SigV4 signature with an independent implementation (./sigv4.ts),
 * answers in the shapes each API uses (XML for SES and STS, JSON for SES v2 and CloudWatch),
 * records what it saw and can inject faults.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import {
  answerGetMetricData,
  CLOUDWATCH_SIGNING_NAME,
  cloudWatchError,
  cloudWatchOperation,
  type FakeReputation,
  type GetMetricDataCall,
  type JsonAnswer,
  MAX_DATAPOINTS,
} from './fake-cloudwatch.ts';
import {
  parseAuthorization,
  type SignedRequest,
  type SigV4ErrorCode,
  verifySigV4,
} from './sigv4.ts';

/** Access key id the fake accepts from the start (paired with {@link FAKE_SECRET_ACCESS_KEY}). */
export const FAKE_ACCESS_KEY_ID = 'AKIAFAKESESTEST00001';
/** Secret access key of {@link FAKE_ACCESS_KEY_ID}; 40 characters like a real one. */
export const FAKE_SECRET_ACCESS_KEY = 'fakeSesSecretKey/0123456789abcdefghijklm';

/** The numbers `GetSendQuota` returns; -1 means unlimited, as in SES. */
export interface FakeQuota {
  max24HourSend: number;
  maxSendRate: number;
  sentLast24Hours: number;
}

/** One `GetSendStatistics` data point; `timestamp` is ISO 8601 without milliseconds. */
export interface FakePoint {
  timestamp: string;
  deliveryAttempts: number;
  bounces: number;
  complaints: number;
  rejects: number;
}

/** The calls the fake answers for the activity: SES's two, SES v2 GetAccount, CloudWatch GetMetricData. */
export type SesAction = 'GetSendQuota' | 'GetSendStatistics' | 'GetAccount' | 'GetMetricData';

/**
 * A fault answered instead of (or, for `slow`, before) a normal response, in the form of the API
 * called (SES and STS: an XML `ErrorResponse`; SES v2: a JSON body with `x-amzn-errortype`;
 * CloudWatch: a JSON body with `__type` and `x-amzn-query-error`).
 * - `error`: the given status and code (Type `Receiver` for 5xx).
 * - `denied`: the API's access-denied error (403; `AccessDenied`, for SES v2
 *   `AccessDeniedException`), with `message` or a default.
 * - `throttle`: the API's throttling error (`Throttling` 400; for SES v2 `TooManyRequestsException` 429).
 * - `slow`: waits `delayMs`, then answers normally.
 * - `malformed`: status 200 with a truncated body.
 * - `status`: the bare status code with an empty body, like a failing load balancer.
 */
export type FakeFault =
  | { kind: 'error'; status: number; code: string; message?: string }
  | { kind: 'denied'; message?: string }
  | { kind: 'throttle' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'malformed' }
  | { kind: 'status'; status: number };

export interface InjectOptions {
  /** How many matching requests the fault answers; default 1. */
  times?: number;
  /**
   * Only requests for this action consume the fault. Without it, GetSendQuota and
   * GetSendStatistics do (as before the account calls existed); GetAccount and GetMetricData
   * take only faults that name them.
   */
  action?: SesAction;
}

/** The SES v2 `GetAccount` state; `quota` of the fake gives its `SendQuota`. */
export interface FakeAccount {
  /** `HEALTHY`, `PROBATION` or `SHUTDOWN`; undefined leaves it out (a malformed answer). */
  enforcementStatus: string | undefined;
  /** Undefined leaves it out (a malformed answer). */
  sendingEnabled: boolean | undefined;
  /** False: the account is in the sandbox. Undefined leaves it out (a malformed answer). */
  productionAccessEnabled: boolean | undefined;
  /** `Details.ReviewDetails`; absent when the account was never reviewed. */
  reviewDetails?: { status: string; caseId: string };
}

/** What the fake saw of one request, recorded on arrival (before any check). */
export interface RecordedRequest {
  /**
   * The `Action` parameter (SES, STS), `GetAccount` for `GET /v2/email/account`, the operation of
   * a CloudWatch `X-Amz-Target`, or '' when none is recognised.
   */
  action: string;
  /** From the `Authorization` header, whether or not the signature turned out valid. */
  accessKeyId?: string;
  userAgent?: string;
  amzUserAgent?: string;
  sessionToken?: string;
  /**
   * An HTTP proxy brought the request: its request line carried an absolute URI (a forwarding
   * proxy), or it came through a CONNECT tunnel opened to the fake itself (e.g. hpagent, which
   * tunnels plain HTTP too).
   */
  viaProxy: boolean;
  at: Date;
}

/** One `AssumeRole` call; `issuedAccessKeyId` is absent when the call was denied. */
export interface AssumeRoleCall {
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
  callerAccessKeyId: string;
  issuedAccessKeyId?: string;
  at: Date;
}

export interface FakeSesOptions {
  /** Region the signatures must be scoped to; default 'us-east-1'. */
  region?: string;
  quota?: FakeQuota;
  points?: FakePoint[];
  /** Every SES call (after its signature is checked) waits this long before it is answered; default 0. */
  latencyMs?: number;
  /**
   * What a call of an SES action (GetAccount too) by an identity less than 1 s after its previous
   * one gets (SES allows one a second per action, account and region): `record` answers it and
   * records the violation, `throttle` also answers it with SES's throttling error. Default
   * `record`. CloudWatch calls are not paced.
   */
  pacing?: 'record' | 'throttle';
  /** Answered by `GetAccount`; default HEALTHY, sending enabled, out of the sandbox, never reviewed. */
  account?: FakeAccount;
  /** Answered by `GetMetricData`; default both series empty. */
  reputation?: FakeReputation;
  /** Which APIs it serves: every one (default), or CloudWatch alone (`startFakeCloudWatch`). */
  serves?: 'all' | 'cloudwatch';
}

/**
 * A call that came less than {@link SES_PACE_MS} (less {@link PACE_JITTER_MS}) after the previous call of the same action by
 * the same identity (a long-term key, or the role a temporary key was issued for) in the region.
 */
export interface PacingViolation {
  identity: string;
  action: SesAction;
  /** Milliseconds since that previous call. */
  gapMs: number;
}

/** SES's rate for GetSendQuota, GetSendStatistics and GetAccount: one call a second per action and identity. */
export const SES_PACE_MS = 1000;

/**
 * Calls paced exactly 1 s apart by the client can arrive a little closer (the first one's
 * connection or signing took longer): a gap this much short of 1 s is not counted.
 */
export const PACE_JITTER_MS = 50;

export interface FakeSes {
  /** Base URL, e.g. `http://127.0.0.1:PORT`; use it as the SDK `endpoint` or as a proxy. */
  readonly url: string;
  readonly region: string;
  /** Answered by `GetSendQuota`; default 50000 / 14 / 1234. */
  quota: FakeQuota;
  /** Answered by `GetSendStatistics` in this order; default empty. */
  points: FakePoint[];
  /** Answered by SES v2 `GetAccount` (with `quota` as its `SendQuota`); assign to change it between runs. */
  account: FakeAccount;
  /** Answered by CloudWatch `GetMetricData`; assign to revise the series between runs. */
  reputation: FakeReputation;
  /** At most this many data points a `GetMetricData` page holds (CloudWatch's own limit by default). */
  metricPageSize: number;
  /** Every `GetMetricData` call that passed its checks, page by page; reset clears them. */
  readonly metricDataCalls: readonly GetMetricDataCall[];
  /** Shifts the server's clock; beyond five minutes signatures are answered `RequestExpired`. */
  clockSkewMs: number;
  readonly requests: readonly RecordedRequest[];
  readonly assumeRoleCalls: readonly AssumeRoleCall[];
  /** Answers carry an HTTP `Date` header (the server's, skewed) unless this is false; reset sets it true. */
  sendsDate: boolean;
  /** Every SES call waits this long before it is answered (see FakeSesOptions.latencyMs). */
  latencyMs: number;
  /** Calls that came too soon after the previous one of their identity and action; reset clears them. */
  readonly pacingViolations: readonly PacingViolation[];
  /**
   * Holds every SES call signed by `accessKeyId` (after its checks, before its answer) until the
   * returned function is called: a test can see what the client did while that source waits.
   */
  hold(accessKeyId: string): () => void;
  /** Accepts another long-term key pair, or a new secret key for a known id (a rotation). */
  addKey(accessKeyId: string, secretAccessKey: string): void;
  /** Stops accepting a key id (it is then answered `InvalidClientTokenId`). */
  removeKey(accessKeyId: string): void;
  /** Makes `AssumeRole` on `roleArn` answer AccessDenied unless `ExternalId` equals `externalId`. */
  requireExternalId(roleArn: string, externalId: string): void;
  /** Queues a fault; queued faults are consumed in the order they were injected. */
  inject(fault: FakeFault, options?: InjectOptions): void;
  /**
   * Clears queued faults, recorded requests, calls and pacing violations, the clock skew and
   * `sendsDate`. Keys, issued sessions, external-id requirements, quota, points, account,
   * reputation, page size, latency and held keys stay.
   */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a fake SES on 127.0.0.1 with an ephemeral port. */
export async function startFakeSes(options: FakeSesOptions = {}): Promise<FakeSes> {
  const fake = new FakeSesServer(options);
  await fake.listen();
  return fake;
}

/** A fake serving CloudWatch alone: SES, SES v2 and STS requests get `404 UnknownOperation`. */
export type FakeCloudWatch = FakeSes;

/**
 * Starts a fake CloudWatch (`GetMetricData` only) on 127.0.0.1 with an ephemeral port: the same
 * keys, faults, recording and settings (`reputation`, `metricPageSize`) as the fake SES.
 */
export function startFakeCloudWatch(
  options: Omit<FakeSesOptions, 'serves'> = {},
): Promise<FakeCloudWatch> {
  return startFakeSes({ ...options, serves: 'cloudwatch' });
}

/** The account a fake starts with: healthy, sending, out of the sandbox. */
export const HEALTHY_ACCOUNT: Readonly<FakeAccount> = {
  enforcementStatus: 'HEALTHY',
  sendingEnabled: true,
  productionAccessEnabled: true,
};

/**
 * The last 14 days of 15-minute send statistics ending at `now`, as SES reports them: buckets at
 * `phaseMinutes` past each quarter hour (default 7, i.e. :07/:22/:37/:52), empty buckets left out
 * (every `emptyEvery`-th one, default 10; 0 for none) and the rest in shuffled order. Counts come
 * from a PRNG seeded with `seed` (default 1), so equal arguments give equal output.
 */
export function twoWeekWindow(
  now: Date,
  opts: { phaseMinutes?: number; seed?: number; emptyEvery?: number } = {},
): FakePoint[] {
  const { phaseMinutes = 7, seed = 1, emptyEvery = 10 } = opts;
  const random = mulberry32(seed);
  const phaseMs = phaseMinutes * MINUTE_MS;
  const newest = Math.floor((now.getTime() - phaseMs) / BUCKET_MS) * BUCKET_MS + phaseMs;
  const points: FakePoint[] = [];
  for (let t = newest, i = 0; t > now.getTime() - WINDOW_MS; t -= BUCKET_MS, i++) {
    // Drawn even for empty buckets so that emptyEvery does not change the other buckets' counts.
    const point = randomPoint(new Date(t), random);
    if (emptyEvery <= 0 || i % emptyEvery !== emptyEvery - 1) points.push(point);
  }
  return shuffle(points, random);
}

const MINUTE_MS = 60_000;
const BUCKET_MS = 15 * MINUTE_MS;
const WINDOW_MS = 14 * 24 * 60 * MINUTE_MS;
const SES_NS = 'http://ses.amazonaws.com/doc/2010-12-01/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const VERSIONS: Record<string, string> = {
  GetSendQuota: '2010-12-01',
  GetSendStatistics: '2010-12-01',
  AssumeRole: '2011-06-15',
};
const AUTH_STATUS: Record<SigV4ErrorCode, number> = {
  IncompleteSignature: 403,
  InvalidClientTokenId: 403,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
};
/** SES v2 (a REST/JSON API) names the query protocol's authentication errors its own way. */
const REST_JSON_CODES: Record<string, string> = {
  IncompleteSignature: 'IncompleteSignatureException',
  InvalidClientTokenId: 'UnrecognizedClientException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  RequestExpired: 'InvalidSignatureException',
  ExpiredToken: 'ExpiredTokenException',
  AccessDenied: 'AccessDeniedException',
  Throttling: 'TooManyRequestsException',
};
/** The calls SES paces at one a second per action and identity. */
const PACED: ReadonlySet<string> = new Set(['GetSendQuota', 'GetSendStatistics', 'GetAccount']);
const ACCOUNT_PATH = '/v2/email/account';
const DEFAULT_MESSAGES: Record<string, string> = {
  Throttling: 'Rate exceeded',
  TooManyRequestsException: 'Too Many Requests',
  AccessDenied: 'User is not authorized to perform this action.',
  AccessDeniedException: 'User is not authorized to perform this action.',
  InternalFailure: 'An internal error occurred.',
  ServiceUnavailable: 'Service is unavailable.',
};
const INVALID_TOKEN = 'The security token included in the request is invalid.';

/** How a request was sent, and so how its answer and errors are written. */
type Protocol = 'query' | 'rest-json' | 'json-rpc';

interface QueuedFault {
  fault: FakeFault;
  remaining: number;
  action?: SesAction;
}

interface Session {
  /** The role it was issued for: SES paces the role's calls, whatever key it signs with. */
  roleArn: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** One request being answered: where to write and what every response carries. */
interface Exchange {
  res: ServerResponse;
  requestId: string;
  now: Date;
  namespace: string;
  sendsDate: boolean;
  protocol: Protocol;
}

interface Incoming {
  action: string;
  protocol: Protocol;
  params: URLSearchParams;
  signed: SignedRequest;
  absoluteForm: boolean;
}

class FakeSesServer implements FakeSes {
  url = '';
  readonly region: string;
  quota: FakeQuota;
  points: FakePoint[];
  account: FakeAccount;
  reputation: FakeReputation;
  metricPageSize = MAX_DATAPOINTS;
  readonly metricDataCalls: GetMetricDataCall[] = [];
  clockSkewMs = 0;
  sendsDate = true;
  latencyMs: number;
  readonly pacingViolations: PacingViolation[] = [];
  readonly requests: RecordedRequest[] = [];
  readonly assumeRoleCalls: AssumeRoleCall[] = [];
  private readonly keys = new Map([[FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY]]);
  private readonly sessions = new Map<string, Session>();
  private readonly externalIds = new Map<string, string>();
  private faults: QueuedFault[] = [];
  private readonly pacing: 'record' | 'throttle';
  private readonly serves: 'all' | 'cloudwatch';
  /** `identity|action` → host time (ms) of its latest call. */
  private readonly lastCalls = new Map<string, number>();
  private readonly held = new Map<string, Promise<void>>();
  private readonly closing = new AbortController();
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private readonly tunnels = new WeakSet<object>();

  constructor(options: FakeSesOptions) {
    this.region = options.region ?? 'us-east-1';
    this.quota = options.quota ?? { max24HourSend: 50000, maxSendRate: 14, sentLast24Hours: 1234 };
    this.points = options.points ?? [];
    this.account = options.account ?? { ...HEALTHY_ACCOUNT };
    this.reputation = options.reputation ?? { bounceRate: [], complaintRate: [] };
    this.latencyMs = options.latencyMs ?? 0;
    this.pacing = options.pacing ?? 'record';
    this.serves = options.serves ?? 'all';
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Act as the proxy's far end: serve the tunnelled requests on this same server.
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      this.tunnels.add(socket);
      if (head.length > 0) socket.unshift(head);
      this.server.emit('connection', socket);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    this.closing.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // The SDK keeps connections alive; without this close() would wait for them to time out.
    this.server.closeAllConnections();
    await closed;
  }

  addKey(accessKeyId: string, secretAccessKey: string): void {
    this.keys.set(accessKeyId, secretAccessKey);
  }

  removeKey(accessKeyId: string): void {
    this.keys.delete(accessKeyId);
  }

  hold(accessKeyId: string): () => void {
    let release: () => void = () => undefined;
    this.held.set(
      accessKeyId,
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    return () => {
      this.held.delete(accessKeyId);
      release();
    };
  }

  requireExternalId(roleArn: string, externalId: string): void {
    this.externalIds.set(roleArn, externalId);
  }

  inject(fault: FakeFault, options: InjectOptions = {}): void {
    this.faults.push({ fault, remaining: options.times ?? 1, action: options.action });
  }

  reset(): void {
    this.faults = [];
    this.requests.length = 0;
    this.assumeRoleCalls.length = 0;
    this.metricDataCalls.length = 0;
    this.pacingViolations.length = 0;
    this.lastCalls.clear();
    this.clockSkewMs = 0;
    this.sendsDate = true;
  }

  private now(): Date {
    return new Date(Date.now() + this.clockSkewMs);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ex: Exchange = {
      res,
      requestId: randomUUID(),
      now: this.now(),
      namespace: SES_NS,
      sendsDate: this.sendsDate,
      protocol: 'query',
    };
    try {
      const incoming = await readIncoming(req);
      this.record(req, incoming);
      ex.protocol = incoming.protocol;
      if (incoming.action === 'AssumeRole') ex.namespace = STS_NS;
      await this.dispatch(incoming, ex);
    } catch (error) {
      if (!res.headersSent && !res.destroyed) sendError(ex, 500, 'InternalFailure', String(error));
    }
  }

  private record(req: IncomingMessage, incoming: Incoming): void {
    const header = (name: string) => headerValue(req, name);
    this.requests.push({
      action: incoming.action,
      accessKeyId: parseAuthorization(header('authorization'))?.accessKeyId,
      userAgent: header('user-agent'),
      amzUserAgent: header('x-amz-user-agent'),
      sessionToken: header('x-amz-security-token'),
      viaProxy: incoming.absoluteForm || this.tunnels.has(req.socket),
      at: new Date(),
    });
  }

  private async dispatch(incoming: Incoming, ex: Exchange): Promise<void> {
    const { action, params, signed } = incoming;
    const service =
      action === 'AssumeRole'
        ? 'sts'
        : action === 'GetMetricData'
          ? CLOUDWATCH_SIGNING_NAME
          : 'ses';
    const lookup = (id: string) => this.keys.get(id) ?? this.sessions.get(id)?.secretAccessKey;
    const auth = verifySigV4(signed, lookup, { service, region: this.region, now: ex.now });
    if (!auth.ok) return sendError(ex, authStatus(auth.code, ex), auth.code, auth.message);
    const tokenError = this.checkSessionToken(auth.accessKeyId, auth.sessionToken, ex.now);
    if (tokenError) return sendError(ex, 403, tokenError.code, tokenError.message);

    const unknown = this.unknownOperation(incoming);
    if (unknown !== undefined) return sendError(ex, unknown.status, unknown.code, unknown.message);
    if (action === 'AssumeRole') return this.assumeRole(params, auth.accessKeyId, ex);
    const tooSoon = PACED.has(action) && this.checkPace(auth.accessKeyId, action as SesAction);
    await this.held.get(auth.accessKeyId);
    if (this.latencyMs > 0) await delay(this.latencyMs, undefined, { signal: this.closing.signal });
    if (tooSoon && this.pacing === 'throttle') return sendFault(ex, { kind: 'throttle' });
    return this.answerSes(action as SesAction, signed.body, ex);
  }

  /** Why this request names no operation the fake serves, or undefined when it does. */
  private unknownOperation({ action, protocol, params }: Incoming) {
    const served = this.serves === 'all' || (protocol === 'json-rpc' && action === 'GetMetricData');
    if (!served || (protocol === 'json-rpc' && action !== 'GetMetricData'))
      return {
        status: 404,
        code: 'UnknownOperation',
        message: `This fake does not serve ${action || 'this request'}.`,
      };
    if (protocol === 'rest-json' && action !== 'GetAccount')
      return { status: 404, code: 'NotFoundException', message: 'Unknown SES v2 route.' };
    const version = params.get('Version');
    if (protocol === 'query' && (!action || VERSIONS[action] !== version))
      return {
        status: 400,
        code: 'InvalidAction',
        message: `Could not find operation ${action} for version ${version}`,
      };
    return undefined;
  }

  /** Records a call that came less than 1 s after its identity's previous call of `action`. */
  private checkPace(accessKeyId: string, action: SesAction): boolean {
    const identity = this.sessions.get(accessKeyId)?.roleArn ?? accessKeyId;
    const key = `${identity}|${action}`;
    const now = performance.now();
    const last = this.lastCalls.get(key);
    this.lastCalls.set(key, now);
    if (last === undefined || now - last >= SES_PACE_MS - PACE_JITTER_MS) return false;
    this.pacingViolations.push({ identity, action, gapMs: Math.round(now - last) });
    return true;
  }

  // Temporary keys only work with the token they were issued with; long-term keys take none.
  private checkSessionToken(accessKeyId: string, token: string | undefined, now: Date) {
    const session = this.sessions.get(accessKeyId);
    if (session ? session.sessionToken !== token : token !== undefined) {
      return { code: 'InvalidClientTokenId', message: INVALID_TOKEN };
    }
    if (session && session.expiration <= now) {
      return {
        code: 'ExpiredToken',
        message: 'The security token included in the request is expired',
      };
    }
    return undefined;
  }

  private async answerSes(action: SesAction, requestBody: Buffer, ex: Exchange): Promise<void> {
    const fault = this.takeFault(action);
    if (fault?.kind === 'slow') {
      await delay(fault.delayMs, undefined, { signal: this.closing.signal });
    }
    const answer = this.answerOf(action, requestBody, ex);
    if (answer.status !== 200) return send(ex, answer.status, answer.body, answer.headers);
    if (fault === undefined || fault.kind === 'slow')
      return send(ex, 200, answer.body, answer.headers);
    if (fault.kind === 'malformed')
      return send(ex, 200, answer.body.slice(0, Math.floor(answer.body.length / 2)));
    return sendFault(ex, fault);
  }

  /** The normal answer, or the request's own error (a GetMetricData request CloudWatch refuses). */
  private answerOf(action: SesAction, requestBody: Buffer, ex: Exchange): JsonAnswer {
    switch (action) {
      case 'GetAccount':
        return { status: 200, headers: {}, body: accountJson(this.account, this.quota) };
      case 'GetMetricData': {
        const { answer, call } = answerGetMetricData(
          requestBody,
          this.reputation,
          this.metricPageSize,
        );
        if (call !== undefined) this.metricDataCalls.push(call);
        return answer;
      }
      default: {
        const result =
          action === 'GetSendQuota' ? quotaXml(this.quota) : statisticsXml(this.points);
        return { status: 200, headers: {}, body: resultXml(action, result, ex) };
      }
    }
  }

  private takeFault(action: SesAction): FakeFault | undefined {
    // Faults injected for no action are SES v1's, as they were before the account calls.
    const v1 = action === 'GetSendQuota' || action === 'GetSendStatistics';
    const queued = this.faults.find((f) => (f.action === undefined && v1) || f.action === action);
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.faults.splice(this.faults.indexOf(queued), 1);
    return queued.fault;
  }

  private assumeRole(params: URLSearchParams, callerAccessKeyId: string, ex: Exchange): void {
    const roleArn = params.get('RoleArn') ?? '';
    const roleSessionName = params.get('RoleSessionName') ?? '';
    const externalId = params.get('ExternalId') ?? undefined;
    const call: AssumeRoleCall = {
      roleArn,
      roleSessionName,
      externalId,
      callerAccessKeyId,
      at: new Date(),
    };
    this.assumeRoleCalls.push(call);
    if (!roleArn || !roleSessionName) {
      sendError(ex, 400, 'ValidationError', 'RoleArn and RoleSessionName are required.');
      return;
    }
    const required = this.externalIds.get(roleArn);
    if (required !== undefined && required !== externalId) {
      const message = `User: arn:aws:iam::123456789012:user/fake-ses is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`;
      sendError(ex, 403, 'AccessDenied', message);
      return;
    }
    const durationMs = Number(params.get('DurationSeconds') ?? 3600) * 1000;
    const accessKeyId = `ASIA${randomBase32(16)}`;
    const session: Session = {
      roleArn,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      expiration: new Date(ex.now.getTime() + durationMs),
    };
    this.sessions.set(accessKeyId, session);
    call.issuedAccessKeyId = accessKeyId;
    send(
      ex,
      200,
      resultXml('AssumeRole', assumeRoleXml(accessKeyId, session, roleArn, roleSessionName), ex),
    );
  }
}

async function readIncoming(req: IncomingMessage): Promise<Incoming> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const target = req.url ?? '/';
  // A proxy-bound request names the whole URL ("absolute-form", RFC 9112 §3.2.2).
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(target)?.[0];
  const pathAndQuery = origin ? target.slice(origin.length) : target;
  const q = pathAndQuery.indexOf('?');
  const path = (q < 0 ? pathAndQuery : pathAndQuery.slice(0, q)) || '/';
  const query = q < 0 ? '' : pathAndQuery.slice(q + 1);
  const signed = { method: req.method ?? 'GET', path, query, headers: req.headersDistinct, body };
  const amzTarget = headerValue(req, 'x-amz-target');
  if (amzTarget !== undefined)
    return {
      action: cloudWatchOperation(amzTarget) ?? '',
      protocol: 'json-rpc',
      params: new URLSearchParams(),
      signed,
      absoluteForm: origin !== undefined,
    };
  if (path.startsWith('/v2/'))
    return {
      action: req.method === 'GET' && path === ACCOUNT_PATH ? 'GetAccount' : '',
      protocol: 'rest-json',
      params: new URLSearchParams(),
      signed,
      absoluteForm: origin !== undefined,
    };
  const params = new URLSearchParams(req.method === 'GET' ? query : body.toString('utf8'));
  return {
    action: params.get('Action') ?? '',
    protocol: 'query',
    params,
    // headersDistinct keeps repeated headers apart, which the canonical form needs.
    signed,
    absoluteForm: origin !== undefined,
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function send(
  ex: Exchange,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  ex.res.sendDate = false;
  ex.res.writeHead(status, {
    ...headers,
    'content-type': CONTENT_TYPES[ex.protocol],
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': ex.requestId,
    // The SDK corrects its clock from this header, so it must show the (possibly skewed) server time.
    ...(ex.sendsDate ? { date: ex.now.toUTCString() } : {}),
  });
  ex.res.end(body);
}

const CONTENT_TYPES: Record<Protocol, string> = {
  query: 'text/xml',
  'rest-json': 'application/json',
  'json-rpc': 'application/x-amz-json-1.0',
};

/** A fault's answer in the form of the API called. */
function sendFault(ex: Exchange, fault: Exclude<FakeFault, { kind: 'slow' | 'malformed' }>): void {
  if (fault.kind === 'status') send(ex, fault.status, '');
  else if (fault.kind === 'denied') sendError(ex, 403, 'AccessDenied', fault.message ?? '');
  else if (fault.kind === 'throttle')
    sendError(ex, ex.protocol === 'rest-json' ? 429 : 400, 'Throttling', '');
  else sendError(ex, fault.status, fault.code, fault.message ?? '');
}

function authStatus(code: SigV4ErrorCode, ex: Exchange): number {
  // JSON services refuse every authentication failure with 403.
  return ex.protocol === 'rest-json' ? 403 : AUTH_STATUS[code];
}

/**
 * An error in the form of the API called; `code` is the query protocol's (`AccessDenied`), which
 * SES v2 answers under its own name (`AccessDeniedException`). An empty `message` takes the code's
 * default.
 */
function sendError(ex: Exchange, status: number, queryCode: string, text: string): void {
  const code = ex.protocol === 'rest-json' ? (REST_JSON_CODES[queryCode] ?? queryCode) : queryCode;
  const message = text || (DEFAULT_MESSAGES[code] ?? code);
  if (ex.protocol === 'json-rpc') {
    const answer = cloudWatchError(status, code, message);
    send(ex, status, answer.body, answer.headers);
  } else if (ex.protocol === 'rest-json') {
    send(ex, status, JSON.stringify({ message }), { 'x-amzn-errortype': code });
  } else {
    sendXmlError(ex, status, code, message);
  }
}

function sendXmlError(ex: Exchange, status: number, code: string, message: string): void {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  const error = `<Error><Type>${type}</Type><Code>${xml(code)}</Code><Message>${xml(message)}</Message></Error>`;
  send(
    ex,
    status,
    `<ErrorResponse xmlns="${ex.namespace}">${error}<RequestId>${ex.requestId}</RequestId></ErrorResponse>`,
  );
}

function resultXml(action: string, result: string, ex: Exchange): string {
  const metadata = `<ResponseMetadata><RequestId>${ex.requestId}</RequestId></ResponseMetadata>`;
  return `<${action}Response xmlns="${ex.namespace}"><${action}Result>${result}</${action}Result>${metadata}</${action}Response>`;
}

/** SES API v2 GetAccount's answer (fields it leaves out when undefined are left out here too). */
function accountJson(a: FakeAccount, q: FakeQuota): string {
  return JSON.stringify({
    DedicatedIpAutoWarmupEnabled: false,
    EnforcementStatus: a.enforcementStatus,
    ProductionAccessEnabled: a.productionAccessEnabled,
    SendQuota: {
      Max24HourSend: q.max24HourSend,
      MaxSendRate: q.maxSendRate,
      SentLast24Hours: q.sentLast24Hours,
    },
    SendingEnabled: a.sendingEnabled,
    SuppressionAttributes: { SuppressedReasons: [] },
    ...(a.reviewDetails === undefined
      ? {}
      : {
          Details: {
            MailType: 'TRANSACTIONAL',
            ReviewDetails: { Status: a.reviewDetails.status, CaseId: a.reviewDetails.caseId },
          },
        }),
  });
}

function quotaXml(q: FakeQuota): string {
  return [
    `<SentLast24Hours>${double(q.sentLast24Hours)}</SentLast24Hours>`,
    `<Max24HourSend>${double(q.max24HourSend)}</Max24HourSend>`,
    `<MaxSendRate>${double(q.maxSendRate)}</MaxSendRate>`,
  ].join('');
}

function statisticsXml(points: FakePoint[]): string {
  const members = points.map(
    (p) =>
      `<member><DeliveryAttempts>${p.deliveryAttempts}</DeliveryAttempts><Timestamp>${xml(p.timestamp)}</Timestamp>` +
      `<Rejects>${p.rejects}</Rejects><Bounces>${p.bounces}</Bounces><Complaints>${p.complaints}</Complaints></member>`,
  );
  return `<SendDataPoints>${members.join('')}</SendDataPoints>`;
}

function assumeRoleXml(
  accessKeyId: string,
  s: Session,
  roleArn: string,
  sessionName: string,
): string {
  // arn:aws:iam::ACCOUNT:role/NAME assumed as SESSION is arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION.
  const assumedArn = `${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${sessionName}`;
  return (
    `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${xml(s.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${xml(s.sessionToken)}</SessionToken><Expiration>${s.expiration.toISOString()}</Expiration></Credentials>` +
    `<AssumedRoleUser><AssumedRoleId>AROA${randomBase32(17)}:${xml(sessionName)}</AssumedRoleId>` +
    `<Arn>${xml(assumedArn)}</Arn></AssumedRoleUser>`
  );
}

/** SES renders its quota numbers as doubles: 200.0, -1.0, 14.5. */
function double(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

function xml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

// Real key ids use this alphabet too.
function randomBase32(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

function randomPoint(at: Date, random: () => number): FakePoint {
  const deliveryAttempts = 1 + Math.floor(random() * 200);
  return {
    timestamp: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    deliveryAttempts,
    bounces: Math.floor(random() * deliveryAttempts * 0.05),
    complaints: random() < 0.05 ? 1 : 0,
    rejects: random() < 0.02 ? 1 : 0,
  };
}

/** mulberry32: a tiny seeded PRNG, good enough for repeatable fixtures. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
