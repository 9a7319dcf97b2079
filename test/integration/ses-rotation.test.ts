import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createProxy } from 'proxy';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSecretReader, type ReadOptions } from '../../lambda/adapters/secrets.ts';
import { powertoolsSecretsManager } from '../../lambda/adapters/secrets-manager.ts';
import {
  SECRET_MAX_AGE_MS,
  SesStatisticsSource,
} from '../../lambda/adapters/ses-statistics-source.ts';
import { type ConnectionInput, connectionSchema } from '../../lambda/config/schema.ts';
import {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  type FakeSes,
  startFakeSes,
} from '../support/fake-ses.ts';
import { failureOf } from '../support/fakes.ts';

const ROTATED_KEY = 'rotatedSesSecretKey/0123456789abcdefghijk';
const PROXY_PASSWORDS = ['pr0xy-First!', 'pr0xy-Second!'] as const;
const SECRETS = [FAKE_SECRET_ACCESS_KEY, ROTATED_KEY, ...PROXY_PASSWORDS];

/**
 * The secret store: Secrets Manager has no local server, so a fake one answers each secret's
 * current value and records every read (behind the real SecretReader).
 */
const store = new Map<string, string>();
const reads: Array<{ secretId: string; fresh: boolean }> = [];
const secrets = createSecretReader({
  secretsManager: async (secretId: string, options?: ReadOptions) => {
    reads.push({ secretId, fresh: options?.fresh === true });
    if (store.get('fail') === secretId) throw new Error('Secrets Manager is unreachable');
    return store.get(secretId);
  },
});
const readsOf = (secretId: string) => reads.filter((r) => r.secretId === secretId);

/** The host clock the source sees; tests move it. */
let nowMs = Date.parse('2026-12-01T10:00:00Z');
const clock = { now: () => new Date(nowMs) };

let fake: FakeSes;
const sources: SesStatisticsSource[] = [];

function sourceFor(overrides: ConnectionInput = {}): SesStatisticsSource {
  const connection = connectionSchema.parse({
    serviceUrl: fake.url,
    region: 'us-east-1',
    maxErrorRetry: 0,
    credentials: {
      type: 'keys',
      accessKeyId: FAKE_ACCESS_KEY_ID,
      secretAccessKey: { secretId: 'ses/key' },
    },
    ...overrides,
  });
  const source = new SesStatisticsSource(connection, { secrets, clock });
  sources.push(source);
  return source;
}

function expectNoSecretIn(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

/** Rotates the SES secret key: the server accepts only the new one from now on. */
function rotateServerKey(): void {
  fake.addKey(FAKE_ACCESS_KEY_ID, ROTATED_KEY);
}

beforeAll(async () => {
  fake = await startFakeSes();
});
beforeEach(() => {
  store.clear();
  store.set('ses/key', FAKE_SECRET_ACCESS_KEY);
  reads.length = 0;
});
afterEach(() => {
  for (const s of sources.splice(0)) s.destroy();
  fake.reset();
  fake.addKey(FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY);
});
afterAll(() => fake.close());

describe('SesStatisticsSource with rotated secrets', () => {
  it('reads a rotated secret key once and succeeds when SES refuses the cached one', async () => {
    const source = sourceFor();
    await source.getSendQuota();
    rotateServerKey();
    store.set('ses/key', ROTATED_KEY);
    fake.reset();

    const { value } = await source.getSendStatistics();
    const again = await source.getSendQuota();

    expect(value).toEqual([]);
    expect(again.value.maxSendRate).toBe(14);
    expect(readsOf('ses/key')).toEqual([
      { secretId: 'ses/key', fresh: false },
      { secretId: 'ses/key', fresh: true },
    ]);
    expect(fake.requests.map((r) => r.action)).toEqual([
      'GetSendStatistics',
      'GetSendStatistics',
      'GetSendQuota',
    ]);
  });

  it('reads the secret once for calls that fail on the same stale key together', async () => {
    const source = sourceFor();
    await source.getSendQuota();
    rotateServerKey();
    store.set('ses/key', ROTATED_KEY);

    const [quota, statistics] = await Promise.all([
      source.getSendQuota(),
      source.getSendStatistics(),
    ]);

    expect(quota.value.maxSendRate).toBe(14);
    expect(statistics.value).toEqual([]);
    expect(readsOf('ses/key')).toHaveLength(2);
  });

  it('rejects the call as today when the secret read again is unchanged, without a retry', async () => {
    const source = sourceFor();
    await source.getSendQuota();
    rotateServerKey();
    fake.reset();

    const error = await failureOf(source.getSendQuota());

    expect(error.message).toMatch(
      /^signature does not match: the secret key is wrong for this access key id.*\(SignatureDoesNotMatch: /,
    );
    expectNoSecretIn(error.message);
    expect(readsOf('ses/key')).toEqual([
      { secretId: 'ses/key', fresh: false },
      { secretId: 'ses/key', fresh: true },
    ]);
    expect(fake.requests).toHaveLength(1);
  });

  it('rejects an access key id SES no longer knows after reading the secret again once', async () => {
    const source = sourceFor();
    await source.getSendQuota();
    fake.removeKey(FAKE_ACCESS_KEY_ID);
    fake.reset();

    const error = await failureOf(source.getSendQuota());

    expect(error.message).toMatch(/^invalid access key id: .*\(InvalidClientTokenId: /);
    expect(readsOf('ses/key')).toHaveLength(2);
    expect(fake.requests).toHaveLength(1);
  });

  it('rejects with the SES failure when the secret cannot be read again, and reads it on the next call', async () => {
    const source = sourceFor();
    await source.getSendQuota();
    rotateServerKey();
    store.set('fail', 'ses/key');

    const error = await failureOf(source.getSendQuota());
    store.delete('fail');
    store.set('ses/key', ROTATED_KEY);
    const { value } = await source.getSendQuota();

    expect(error.message).toMatch(/^signature does not match/);
    expect(value.maxSendRate).toBe(14);
    expect(readsOf('ses/key')).toHaveLength(3);
  });

  it('reads the secret again after 15 minutes and not before', async () => {
    const start = nowMs;
    const source = sourceFor();
    await source.getSendQuota();
    nowMs = start + SECRET_MAX_AGE_MS - 1;
    await source.getSendQuota();
    const before = readsOf('ses/key').length;
    // Rotated on both sides without a failed call: only the refresh can bring the new key.
    store.set('ses/key', ROTATED_KEY);
    rotateServerKey();
    nowMs = start + SECRET_MAX_AGE_MS;
    fake.reset();

    const { value } = await source.getSendQuota();

    expect(before).toBe(1);
    expect(value.maxSendRate).toBe(14);
    expect(readsOf('ses/key')).toEqual([
      { secretId: 'ses/key', fresh: false },
      { secretId: 'ses/key', fresh: true },
    ]);
    expect(fake.requests).toHaveLength(1);
    nowMs = start;
  });

  it('never reads again for a connection without secrets', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = FAKE_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = FAKE_SECRET_ACCESS_KEY;
    try {
      const source = sourceFor({ credentials: { type: 'role' } });
      await source.getSendQuota();
      nowMs += 2 * SECRET_MAX_AGE_MS;
      await source.getSendQuota();

      expect(reads).toEqual([]);
      expect(fake.requests).toHaveLength(2);
    } finally {
      process.env = saved;
      nowMs -= 2 * SECRET_MAX_AGE_MS;
    }
  });

  describe('through a proxy whose password rotates', () => {
    let proxy: RotatingProxy;
    beforeAll(async () => {
      proxy = await startRotatingProxy('ops', PROXY_PASSWORDS[0]);
    });
    beforeEach(() => {
      proxy.rotate(PROXY_PASSWORDS[0]);
      store.set('proxy/pwd', PROXY_PASSWORDS[0]);
    });
    afterAll(() => proxy.close());

    // One retry: a pooled tunnel the proxy dropped at its rotation may be taken before its close
    // is seen, and that reset is retried like any other.
    const viaProxy = (): ConnectionInput => ({
      maxErrorRetry: 1,
      proxy: {
        host: '127.0.0.1',
        port: proxy.port,
        user: 'ops',
        passwordSecret: { secretId: 'proxy/pwd' },
      },
    });

    it('recovers from a 407 after a password rotation by reading the password once more', async () => {
      const source = sourceFor(viaProxy());
      await source.getSendQuota();
      proxy.rotate(PROXY_PASSWORDS[1]);
      store.set('proxy/pwd', PROXY_PASSWORDS[1]);
      const refusedBefore = proxy.refused;
      const acceptedBefore = proxy.accepted;
      fake.reset();

      const { value } = await source.getSendQuota();

      expect(value.maxSendRate).toBe(14);
      expect(proxy.refused - refusedBefore).toBe(1);
      expect(readsOf('proxy/pwd')).toEqual([
        { secretId: 'proxy/pwd', fresh: false },
        { secretId: 'proxy/pwd', fresh: true },
      ]);
      expect(proxy.accepted - acceptedBefore).toBe(1);
      expect(fake.requests.map((r) => r.action)).toEqual(['GetSendQuota']);
    });

    it('rejects a 407 as today when the password read again is unchanged', async () => {
      const source = sourceFor(viaProxy());
      await source.getSendQuota();
      proxy.rotate(PROXY_PASSWORDS[1]);
      fake.reset();

      const error = await failureOf(source.getSendQuota());

      expect(error.message).toMatch(
        /^the proxy refused the credentials \(HTTP 407 Proxy Authentication Required\)/,
      );
      expectNoSecretIn(error.message);
      expect(readsOf('proxy/pwd')).toHaveLength(2);
      expect(fake.requests).toHaveLength(0);
    });
  });
});

describe('powertoolsSecretsManager', () => {
  const sm = mockClient(SecretsManagerClient);
  afterAll(() => sm.restore());

  it('skips its 5-second cache when a fresh read is asked, after a rotation', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'rotating/key' }).resolves({ SecretString: 'v1' });
    const first = await powertoolsSecretsManager('rotating/key');
    sm.on(GetSecretValueCommand, { SecretId: 'rotating/key' }).resolves({ SecretString: 'v2' });

    const cached = await powertoolsSecretsManager('rotating/key');
    const fresh = await powertoolsSecretsManager('rotating/key', { fresh: true });

    expect([first, cached, fresh]).toEqual(['v1', 'v1', 'v2']);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});

/** A real forward proxy (npm `proxy`) with basic auth whose password can be changed. */
interface RotatingProxy {
  readonly port: number;
  readonly accepted: number;
  readonly refused: number;
  /** Accepts only `password` from now on and drops open tunnels, as a restarted proxy would. */
  rotate(password: string): void;
  close(): Promise<void>;
}

async function startRotatingProxy(user: string, password: string): Promise<RotatingProxy> {
  const basic = (p: string) => `Basic ${Buffer.from(`${user}:${p}`).toString('base64')}`;
  let expected = basic(password);
  let accepted = 0;
  let refused = 0;
  const server = createProxy(createServer());
  // CONNECT tunnels leave the HTTP server's bookkeeping, so closeAllConnections misses them.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  server.authenticate = (req: IncomingMessage) => {
    const ok = req.headers['proxy-authorization'] === expected;
    if (ok) accepted++;
    else refused++;
    return ok;
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    rotate(next) {
      expected = basic(next);
      dropAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
