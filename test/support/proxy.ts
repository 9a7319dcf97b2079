import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy } from 'proxy';

/** A real forward proxy (npm `proxy`) with basic auth, counting what it let through and refused. */
export interface TestProxy {
  readonly port: number;
  readonly accepted: number;
  readonly refused: number;
  close(): Promise<void>;
}

export async function startProxy(user: string, password: string): Promise<TestProxy> {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const counts = { accepted: 0, refused: 0 };
  const server = createProxy(createServer());
  server.authenticate = (req: IncomingMessage) => {
    const ok = req.headers['proxy-authorization'] === expected;
    counts[ok ? 'accepted' : 'refused']++;
    return ok;
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return counts.accepted;
    },
    get refused() {
      return counts.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
