import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../api/metrics.ts';
import { type ApiResponse, errorResponse, failure, handleApiRequest } from '../api/router.ts';
import { UsageError } from '../core/errors.ts';
import type { DatasetStore } from '../core/store.ts';
import { parseFlags } from './args.ts';
import { EXIT_OK, type Io } from './io.ts';
import { openStore, STORE_FLAGS, STORE_HELP, shown, storeChoice } from './store-options.ts';

export const DEFAULT_PORT = 8787;
const HOST = '127.0.0.1';

const HELP = `Usage: ses-stats serve [--port N] [store options]

Serves the read API of the stored history on http://${HOST}:PORT (default port ${DEFAULT_PORT}; 0 picks
a free one), on this machine only and without authentication:
  /                                 the dashboard (charts, gaps, a table; works offline)
  /datasets                         every dataset with its coverage and gaps
  /datasets/NAME                    one dataset
  /datasets/NAME/records?…          rows: from, to, since, granularity, tz, limit, nextToken, format
  /datasets/NAME/summary?…          totals, window rates or quota use, and the covered range
  /openapi.json                     the API described in OpenAPI 3.1
  /metrics                          Prometheus text format, for a scraper
The same routes as the deployed API (docs/api.md). Requests must name this machine as their host
(${HOST} or localhost): a web page elsewhere cannot read the history through your browser.
Stops with Ctrl-C.

${STORE_HELP}`;

export async function serveCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags(
    'serve',
    args,
    { port: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...STORE_FLAGS },
    true,
  );
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT_OK;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `takes no arguments, received ${positionals.map(shown).join(' ')} (see ses-stats serve --help)`,
    );
  const port = parsePort(values.port);
  const spec = storeChoice(values, io);
  const opened = await openStore(spec, { readOnly: true, io });
  const dashboard = await dashboardPage();
  const server = createServer((request, response) => {
    answer(request, response, { store: opened.store, dashboard, io }).catch((error: unknown) => {
      io.stderr.write(`ses-stats serve: ${request.url} failed: ${(error as Error).message}\n`);
      if (!response.headersSent) send(response, errorResponse(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(
              `--port: ${port} is in use on ${HOST}; choose another, or 0 for a free one`,
            )
          : error,
      ),
    );
    server.listen(port, HOST, resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  io.stdout.write(`ses-stats serve: listening on http://${HOST}:${bound} (${opened.where})\n`);
  // Runs until a signal ends the process (the binary's handler exits 130 or 143).
  await new Promise<never>(() => {});
  return EXIT_OK;
}

/** dist/dashboard/index.html, built with the CLI; this module runs from dist/cli/ or a chunk below it. */
async function dashboardPage(): Promise<string | undefined> {
  for (const relative of ['../dashboard/index.html', '../../dashboard/index.html']) {
    const page = await readFile(new URL(relative, import.meta.url), 'utf8').catch(() => undefined);
    if (page !== undefined) return page;
  }
  return undefined;
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port <= 65_535))
    throw new UsageError(
      `--port: received ${shown(value)}; expected a port number from 0 to 65535`,
    );
  return port;
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  context: { store: DatasetStore; dashboard: string | undefined; io: Io },
): Promise<void> {
  // The request target as sent (not resolved against a base: `//x/datasets` is no route).
  const target = request.url ?? '/';
  const mark = target.indexOf('?');
  const url = {
    pathname: mark === -1 ? target : target.slice(0, mark),
    search: mark === -1 ? '' : target.slice(mark),
    searchParams: new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1)),
  };
  const host = (request.headers.host ?? '').replace(/:\d+$/, '');
  // DNS rebinding: a page on another site resolving its name to 127.0.0.1 sends its own host.
  if (host !== HOST && host !== 'localhost' && host !== '[::1]') {
    send(
      response,
      failure(403, 'ForbiddenHost', `host ${shown(host)} is not this machine; use http://${HOST}`),
    );
    return;
  }
  if (request.method === 'GET' && url.pathname === '/') {
    if (context.dashboard === undefined) {
      send(
        response,
        failure(503, 'DashboardMissing', 'the dashboard is not built: run npm run build'),
      );
      return;
    }
    send(response, {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      },
      body: context.dashboard,
    });
    return;
  }
  if (request.method === 'GET' && url.pathname === '/metrics') {
    if (url.search !== '') {
      send(response, failure(400, 'UnknownParameter', '/metrics takes no parameters'));
      return;
    }
    send(response, {
      status: 200,
      headers: { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' },
      body: await renderMetrics(context.store, new Date()),
    });
    return;
  }
  send(
    response,
    await handleApiRequest(
      { method: request.method ?? 'GET', path: url.pathname, query: [...url.searchParams] },
      {
        store: context.store,
        onServerError: (error) =>
          context.io.stderr.write(
            `ses-stats serve: ${request.method} ${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}\n`,
          ),
      },
    ),
  );
}

function send(response: ServerResponse, { status, headers, body }: ApiResponse): void {
  response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
