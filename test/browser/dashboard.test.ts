import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type Response,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, scratchDir, startCli } from '../support/cli.ts';
import { type History, MAIN, SECOND, writeHistory } from './history.ts';
import { coloursIn, decodePng } from './png.ts';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it): playwright-core brings none. */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '../..');
const VIEWPORT = { width: 1200, height: 900 };
/** The zone the browser runs in, so the page offers it beside UTC. */
const BROWSER_ZONE = 'Europe/Paris';

let history: History;
let serve: { child: ChildProcess; done: Promise<CliRun> };
let base: string;
let browser: Browser;
/** One context for every test (each opens its own page): a context takes a second to make. */
let context: BrowserContext;

/** Starts `ses-stats serve --port 0` and reads its address from the line it prints when ready. */
async function startServe(dir: string): Promise<string> {
  serve = startCli(['serve', '--port', '0', '--data-dir', dir]);
  const { child, done } = serve;
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`serve printed no address in 20 s: ${out}`)),
      20_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const address = /^ses-stats serve: listening on (http:\/\/127\.0\.0\.1:\d+)\b/m.exec(
        out,
      )?.[1];
      if (address === undefined) return;
      clearTimeout(timer);
      resolve(address);
    });
    void done.then((run) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${run.code}) before listening: ${run.stderr}`));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: the dashboard's browser test needs Debian's Chromium (apt-get install -y chromium; .ci/run installs it)`,
    );
  const dir = scratchDir();
  history = await writeHistory(dir);
  [base, browser] = await Promise.all([
    startServe(dir),
    chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
  ]);
  context = await browser.newContext({
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
    timezoneId: BROWSER_ZONE,
    locale: 'en-GB',
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (serve !== undefined && serve.child.exitCode === null) {
    serve.child.kill('SIGTERM');
    await serve.done;
  }
});

interface Opened {
  readonly page: Page;
  /** Every URL the page asked for. */
  readonly requests: URL[];
  /** Requests to anywhere but the server, refused. */
  readonly elsewhere: string[];
  /** Console errors and uncaught exceptions (a CSP violation shows as a console error). */
  readonly errors: string[];
}

const opened: Opened[] = [];

/** Opens the dashboard in a new page that can reach the server and nothing else. */
async function open(hash = ''): Promise<Opened> {
  const requests: URL[] = [];
  const elsewhere: string[] = [];
  const errors: string[] = [];
  const page = await context.newPage();
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === base) return route.continue();
    elsewhere.push(url);
    return route.abort('blockedbyclient');
  });
  page.on('request', (request) => requests.push(new URL(request.url())));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  const entry = { page, requests, elsewhere, errors };
  opened.push(entry);
  await page.goto(`${base}/${hash}`);
  await page.waitForSelector('body[data-state="ready"]');
  return entry;
}

afterEach(async () => {
  for (const { page, elsewhere, errors } of opened.splice(0)) {
    await page.close();
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
  }
});

type Params = Record<string, string | null>;

/** Whether a request went to `path` with each of `params` (null: absent). */
function asked(url: URL, path: string, params: Params): boolean {
  return (
    url.pathname === path &&
    Object.entries(params).every(([key, value]) => url.searchParams.get(key) === value)
  );
}

/**
 * Does `action` and waits for the page to show the records it asked for (the first page of
 * `path` with `params`); returns that answer. A load the page dropped for a newer one (each
 * change starts one) has no body: the last answer read whole is the one shown.
 */
async function loadAfter(
  page: Page,
  path: string,
  params: Params,
  action: () => Promise<unknown>,
): Promise<Records> {
  const matches = (url: URL) => asked(url, path, params) && !url.searchParams.has('nextToken');
  const bodies: Promise<Records | undefined>[] = [];
  const listener = (response: Response) => {
    if (matches(new URL(response.url())))
      bodies.push(
        response.json().then(
          (body) => body as Records,
          () => undefined,
        ),
      );
  };
  page.on('response', listener);
  try {
    const first = page.waitForResponse((r) => matches(new URL(r.url())));
    await action();
    await first;
    await page.waitForSelector('body[data-state="ready"]');
    const answers = (await Promise.all(bodies)).filter((body) => body !== undefined);
    const shown = answers.at(-1);
    if (shown === undefined) throw new Error(`no answer of ${path} was read whole`);
    return shown;
  } finally {
    page.off('response', listener);
  }
}

interface Records {
  readonly granularity: string | null;
  readonly tz: string;
  readonly from: string;
  readonly to: string;
  readonly rows: { Timestamp: string }[];
  readonly nextToken: string | null;
}

/** Every row the API gives for the same range (from and to as the first answer echoed them). */
async function rowsFromApi(name: string, answer: Records): Promise<{ Timestamp: string }[]> {
  const rows: { Timestamp: string }[] = [];
  let token: string | null = null;
  do {
    const query = new URLSearchParams({
      from: answer.from,
      to: answer.to,
      tz: answer.tz,
      granularity: answer.granularity ?? '',
    });
    if (token !== null) query.set('nextToken', token);
    const page = (await (
      await fetch(`${base}/datasets/${name}/records?${query}`)
    ).json()) as Records;
    rows.push(...page.rows);
    token = page.nextToken;
  } while (token !== null);
  return rows;
}

/** In the page: how much of each chart's canvas is painted, and in how many colours. */
const CANVAS_INK = `[...document.querySelectorAll('.chart')].map((chart) => {
  const canvas = chart.querySelector('canvas');
  if (canvas === null) return { id: chart.id, painted: 0, colours: 0, gapColumn: null };
  const { width, height } = canvas;
  const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  let painted = 0;
  const colours = new Set();
  for (let i = 0; i < pixels.length; i += 4)
    if (pixels[i + 3] > 0) {
      painted++;
      colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    }
  // The share of painted pixels down the middle of the first gap drawn.
  const [gap] = (chart.dataset.gaps ?? '').split(' ').filter(Boolean);
  let gapColumn = null;
  if (gap !== undefined) {
    const [x0, x1] = gap.split('-').map(Number);
    const column = canvas.getContext('2d').getImageData(Math.round((x0 + x1) / 2), 0, 1, height).data;
    let inked = 0;
    for (let i = 3; i < column.length; i += 4) if (column[i] > 0) inked++;
    gapColumn = inked / height;
  }
  return { id: chart.id, painted: painted / (width * height), colours: colours.size, gaps: chart.dataset.gaps ?? '', gapColumn };
})`;

interface Ink {
  readonly id: string;
  readonly painted: number;
  readonly colours: number;
  readonly gaps: string;
  readonly gapColumn: number | null;
}

const CHARTS = ['chart-counts', 'chart-bounce', 'chart-complaint', 'chart-quota'];

async function tableRows(page: Page): Promise<string[]> {
  return page
    .locator('#rows tr th time')
    .evaluateAll((times) => times.map((time) => (time as { dateTime: string }).dateTime));
}

describe('the dashboard served by ses-stats serve', () => {
  it('draws the four charts and the table of the first statistics dataset, asking nothing of any other origin', async () => {
    const { page, requests } = await open();

    const drawn = (await page.evaluate(CANVAS_INK)) as Ink[];
    const records = requests.find((u) =>
      asked(u, `/datasets/${MAIN.statisticsDataset}/records`, {}),
    );
    const shown = await tableRows(page);

    expect(drawn.map((c) => c.id)).toEqual(CHARTS);
    for (const chart of drawn) {
      expect(chart.painted, chart.id).toBeGreaterThan(0.02);
      expect(chart.colours, chart.id).toBeGreaterThan(5);
      expect(chart.gaps, chart.id).toBe('');
    }
    expect(records?.searchParams.get('since')).toBe('7d');
    expect(records?.searchParams.get('granularity')).toBe('1h');
    expect(requests.every((u) => u.origin === base)).toBe(true);
    expect(requests.map((u) => u.pathname)).toEqual(
      expect.arrayContaining([
        '/',
        '/datasets',
        `/datasets/${MAIN.statisticsDataset}/summary`,
        `/datasets/${MAIN.usageDataset}/records`,
      ]),
    );
    expect(shown.length).toBeGreaterThan(150);
    expect(await page.locator('#coverage').textContent()).toMatch(/^Covers .*; no gaps\.$/);
    expect(await page.locator('#quota-note').textContent()).toMatch(
      /^usageData, latest snapshot .*: [\d,]+ of 50,000 sent in 24 hours/,
    );
    expect(await page.locator('#status').textContent()).toMatch(
      /^statsData: \d+ buckets per hour, /,
    );
  });

  it('shows the same rows as the API, all pages of them', async () => {
    const { page } = await open('#buckets=15m');
    const answer = await loadAfter(
      page,
      `/datasets/${MAIN.statisticsDataset}/records`,
      { since: '14d', granularity: '15m' },
      () => page.selectOption('#range', '14d'),
    );

    const shown = await tableRows(page);
    const api = await rowsFromApi(MAIN.statisticsDataset, answer);

    expect(answer.nextToken).not.toBeNull(); // more than one page: 14 days of 15-minute buckets
    expect(shown.length).toBeGreaterThan(1000);
    expect(shown).toEqual(api.map((row) => row.Timestamp));
  });

  it('switches to 90 days per day, where the gap is hatched on every chart', async () => {
    const { page } = await open();
    const before = await tableRows(page);

    const answer = await loadAfter(
      page,
      `/datasets/${MAIN.statisticsDataset}/records`,
      { since: '90d', granularity: '1d' },
      () => page.selectOption('#range', '90d'),
    );
    const after = await tableRows(page);
    const drawn = (await page.evaluate(CANVAS_INK)) as Ink[];

    expect(answer.granularity).toBe('1d');
    expect(after.length).toBe(answer.rows.length);
    expect(after.length).toBeGreaterThan(70);
    expect(after.length).toBeLessThan(before.length);
    expect(after[0]).not.toBe(before[0]);
    expect(history.gaps).toHaveLength(1);
    expect(await page.locator('#coverage').textContent()).toMatch(/; 1 gap \(.+\)\.$/);
    expect(await page.locator('#counts-title').textContent()).toBe('Sending activity per day');
    for (const chart of drawn) {
      expect(chart.gaps, chart.id).toMatch(/^\d+-\d+$/);
      // Filled and hatched over the plot's whole height, which is most of the canvas.
      expect(chart.gapColumn, chart.id).toBeGreaterThan(0.5);
    }
  });

  it("shows the account's latest state, its last change and AWS's reputation rates, and says when there is no account dataset", async () => {
    const { page } = await open('#range=7d');

    const state = await page.locator('#account-state').textContent();
    const reputation = await page.locator('#account-reputation').textContent();
    await loadAfter(
      page,
      `/datasets/${SECOND.statisticsDataset}/records`,
      { since: '7d', granularity: '1h' },
      () => page.selectOption('#dataset', SECOND.statisticsDataset),
    );

    // Healthy again after the probation of 5 to 3 days ago: two changes, the last one 3 days ago.
    expect(state).toMatch(
      /^accountData: HEALTHY, sending enabled, production access\. Last change .+, last seen .+; 2 changes stored\.$/,
    );
    expect(reputation).toMatch(
      /^AWS reputation rates: bounce \d\.\d\d% at .+ \(below the review level of 5%\); complaint 0\.040% at .+ \(below the review level of 0\.1%\)\.$/,
    );
    expect(await page.locator('#account-state').textContent()).toMatch(
      /^No account dataset has the source and activity of transactional/,
    );
  });

  it("switches to another account's dataset, showing names from the store as text", async () => {
    const { page } = await open('#range=30d');
    const before = await tableRows(page);

    await loadAfter(
      page,
      `/datasets/${SECOND.statisticsDataset}/records`,
      { since: '30d', granularity: '1h' },
      () => page.selectOption('#dataset', SECOND.statisticsDataset),
    );
    const after = await tableRows(page);

    expect(after.length).toBeGreaterThan(0);
    expect(after.length).not.toBe(before.length);
    expect(after[0]).not.toBe(before[0]);
    expect(await page.locator('#quota-note').textContent()).toMatch(/^transactional\.usage, /);
    expect(
      await page.locator(`#dataset option[value="${SECOND.statisticsDataset}"]`).textContent(),
    ).toBe(`${SECOND.statisticsDataset} (${SECOND.source} / ${SECOND.name})`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.title()).toBe('ses-stats dashboard');
    expect(page.url()).toContain(`dataset=${SECOND.statisticsDataset}`);
  });

  it("reads times in the browser's zone or a typed IANA zone, and refuses an unknown one without asking", async () => {
    const { page, requests } = await open();
    const path = `/datasets/${MAIN.statisticsDataset}/records`;

    const paris = await loadAfter(page, path, { tz: BROWSER_ZONE }, () =>
      page.selectOption('#zone', BROWSER_ZONE),
    );
    await page.selectOption('#zone', 'other');
    const asked = requests.length;
    await page.fill('#zone-other', 'Mars/Olympus_Mons');
    await page.press('#zone-other', 'Enter');
    await page.waitForSelector('body[data-state="error"]');
    const refusal = await page.locator('#error').textContent();
    const refusedWithoutAsking = requests.length === asked;
    const kolkata = await loadAfter(page, path, { tz: 'Asia/Kolkata' }, async () => {
      await page.fill('#zone-other', 'Asia/Kolkata');
      await page.press('#zone-other', 'Enter');
    });

    expect(paris.tz).toBe(BROWSER_ZONE);
    expect(paris.rows[0]?.Timestamp).toMatch(/T\d{2}:00:00\+01:00$/);
    expect(refusal).toMatch(/^"Mars\/Olympus_Mons" is not a time zone/);
    expect(refusedWithoutAsking).toBe(true);
    expect(kolkata.rows[0]?.Timestamp).toMatch(/T\d{2}:00:00\+05:30$/);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.locator('#status').textContent()).toContain('(Asia/Kolkata)');
  });

  it('asks for a custom range as typed, without an offset, with the zone it is read in', async () => {
    const { page } = await open('#tz=America/New_York');
    await page.selectOption('#range', 'custom');
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const from = `${day(history.now.getTime() - 5 * 86_400_000)}T00:00`;
    const to = `${day(history.now.getTime() - 2 * 86_400_000)}T00:00`;

    const answer = await loadAfter(
      page,
      `/datasets/${MAIN.statisticsDataset}/records`,
      { from, to, tz: 'America/New_York', since: null },
      async () => {
        await page.fill('#from', from);
        await page.fill('#to', to);
        await page.click('#apply');
      },
    );
    const shown = await tableRows(page);

    expect(Date.parse(answer.from)).toBe(Date.parse(`${from}:00-05:00`));
    expect(Date.parse(answer.to)).toBe(Date.parse(`${to}:00-05:00`));
    expect(shown).toHaveLength(72);
    expect(shown[0]).toBe(`${from}:00-05:00`);
  });

  it('screenshots as a person sees it: the charts are in the picture', async () => {
    const { page } = await open('#range=90d');
    const file = join(scratchDir(), 'dashboard.png');

    const png = await page.screenshot({ path: file, fullPage: true });
    const picture = decodePng(png);
    const boxes = await Promise.all(CHARTS.map((id) => page.locator(`#${id}`).boundingBox()));
    if (process.env.UPDATE_SCREENSHOT === '1') {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      writeFileSync(join(ROOT, 'docs', 'dashboard.png'), png);
    }

    expect(readFileSync(file).equals(png)).toBe(true);
    expect(picture.width).toBe(VIEWPORT.width);
    for (const [i, box] of boxes.entries()) {
      expect(box, CHARTS[i]).not.toBeNull();
      if (box === null) continue;
      expect(box.y + box.height, CHARTS[i]).toBeLessThanOrEqual(picture.height);
      expect(coloursIn(picture, box), CHARTS[i]).toBeGreaterThan(20);
    }
    // A blank stripe of the page stays uniform: the colours above come from the charts.
    expect(coloursIn(picture, { x: 0, y: picture.height - 4, width: 8, height: 4 })).toBe(1);
  });
});
