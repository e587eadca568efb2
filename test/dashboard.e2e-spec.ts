import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, Browser, BrowserContext, Page } from 'playwright-core';
import { BuildEvent, buildStream, incidentStream } from '@lib/domain';
import { buildFailed, buildPushed } from '@lib/domain/testing/build.fixtures';
import { SqliteEventStore } from '@lib/event-store';
import { at, INCIDENT_ID, incidentLog } from '../apps/projector/src/incidents/testing/incident-fixtures';
import { AppsUnderTest, http } from './support/apps';

/**
 * The web dashboard in a real browser: Debian's chromium driven by playwright-core, against both
 * apps started as processes. Builds submitted and canceled through the API appear and change status
 * on the page without a reload; the build page shows the lifecycle and follows the log from the
 * command API (cross-origin); the incident page draws its chart and lists its milestones, and the
 * post-mortem downloads; a viewer of acme sees acme's builds only and a notice on incidents.
 * Screenshots of every page go to test-output/dashboard/.
 */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(__dirname, '..', 'test-output', 'dashboard');
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
];

/** A port free right now: the apps need fixed ports, as each must know the other's (config.json, CORS). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Attempts on new-backend → registry-v1 around the fixture incident: org pushes denied from 09:00 to 09:30. */
const attemptsAroundTheIncident = (): BuildEvent[] =>
  Array.from({ length: 36 }, (_, index) => {
    const minute = 50 + index * 2;
    const time = at(`${String(8 + Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:10`);
    const ref = { buildId: randomUUID(), org: index % 3 === 0 ? 'globex' : 'acme', backend: 'new-backend', registryEndpoint: 'registry-v1' };
    const failing = minute >= 60 && minute < 90;
    return failing ? buildFailed({ ...ref, failureClass: 'auth-denied' }, { eventId: randomUUID(), occurredAt: time }) : buildPushed(ref, { eventId: randomUUID(), occurredAt: time });
  });

const seedIncident = async (dataDir: string): Promise<void> => {
  const store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite') });
  try {
    for (const event of attemptsAroundTheIncident()) await store.append(buildStream(event.data.buildId), [event]);
    for (const event of incidentLog()) await store.append(incidentStream(INCIDENT_ID), [event]);
  } finally {
    await store.close();
  }
};

const build = (org: string) => ({ org, repo: 'dashboard', source: { git: { url: 'https://git.example.com/dashboard.git', ref: 'main' } } });

describe('the web dashboard in chromium', () => {
  const apps = new AppsUnderTest();
  let browser: Browser;
  let commands: string;
  let dashboard: string;

  /** A fresh browser context (its own localStorage) that may reach loopback and nothing else. */
  const openPage = async (): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    await context.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort('blockedbyclient')));
    const page = await context.newPage();
    // A wait that fails says which element it waited for, before jest's own timeout says nothing.
    page.setDefaultTimeout(20_000);
    // Script errors show in the test output (refused requests are expected: the viewer's 403s).
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && console.log(`browser: ${message.text()}`));
    page.on('pageerror', (error) => console.log(`browser error: ${error.message}`));
    return { context, page };
  };

  const signIn = async (page: Page, token: string): Promise<void> => {
    await page.goto(`${dashboard}/`);
    await page.locator('#token').fill(token);
    await page.locator('#token-form button[type=submit]').click();
  };

  const screenshot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  const queue = async (org: string): Promise<{ buildId: string; position: number }> => {
    const queued = await http('POST', `${commands}/builds`, build(org));
    expect(queued.status).toBe(202);
    return queued.body;
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await seedIncident(apps.dataDir);
    const [port, projectorPort] = [await freePort(), await freePort()];
    await apps.start({ EXECUTOR_ENABLED: 'false', PORT: String(port), PROJECTOR_PORT: String(projectorPort) });
    commands = apps.orchestrator.url.replace('[::1]', '127.0.0.1');
    dashboard = apps.projector.url.replace('[::1]', '127.0.0.1');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }).catch((error: Error) => {
      throw new Error(`cannot start ${CHROMIUM} (install it: scripts/services.sh up, or apt-get install chromium): ${error.message}`);
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await apps.stop();
  });

  it('shows a submitted build without a reload, and its cancellation; its page shows the lifecycle and the log', async () => {
    const { context, page } = await openPage();
    await signIn(page, apps.credentials.auditor);
    await page.locator('#live-state', { hasText: 'live' }).waitFor();
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

    const { buildId } = await queue('acme');
    const row = page.locator(`#builds tr[data-build-id="${buildId}"]`);
    await row.locator('[data-status="queued"]').waitFor();
    await screenshot(page, 'builds');
    expect((await http('POST', `${commands}/builds/${buildId}/cancel`, {})).status).toBe(202);
    await row.locator('[data-status="canceled"]').waitFor();
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);

    await row.locator('a').click();
    await page.locator('#timeline tr[data-event-type="BuildQueued"] .actor', { hasText: 'e2e-builder' }).waitFor();
    await page.locator('#timeline tr[data-event-type="BuildCanceled"]').waitFor();
    // The log comes from the command API, another origin: this is the CORS path.
    await page.locator('#log-state', { hasText: 'ended: canceled' }).waitFor();
    await screenshot(page, 'build');
    await context.close();
  }, 60_000);

  it('shows queued builds per org on the queue page, and statistics by backend', async () => {
    const { context, page } = await openPage();
    await signIn(page, apps.credentials.auditor);
    await queue('initech');
    await page.goto(`${dashboard}/#/queue`);
    await page.locator('#queue-orgs tr[data-org="initech"]').waitFor();
    await page.locator('#registry-endpoints tr[data-route="registry-v1"]').waitFor();
    await screenshot(page, 'queue');
    // Per day over 30 days: the seeded attempts of 2026-11-16 are in range.
    await page.goto(`${dashboard}/#/stats?range=day`);
    await page.locator('#chart-success').waitFor();
    await page.locator('#chart-wait').waitFor();
    await screenshot(page, 'stats');
    await context.close();
  }, 60_000);

  it('opens an incident: its chart, its milestones, and the post-mortem draft to download', async () => {
    const { context, page } = await openPage();
    await signIn(page, apps.credentials.auditor);
    await page.goto(`${dashboard}/#/incidents`);
    const link = page.locator(`#incidents tr[data-incident-id="${INCIDENT_ID}"] a`);
    await link.waitFor();
    await screenshot(page, 'incidents');
    await link.click();
    // Drawn from the failures analysis of the seeded attempts: every minute with an attempt is a bucket.
    await page.locator('canvas#failure-chart[data-buckets="36"]').waitFor();
    for (const milestone of ['impact-started', 'detected', 'mitigated', 'resolved']) {
      await page.locator(`#milestones dd[data-milestone="${milestone}"]`, { hasText: '2026-11-16' }).waitFor();
    }
    await page.locator('#notes li').first().waitFor();
    await page.locator('#top-accounts tbody tr').first().waitFor();
    await screenshot(page, 'incident');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-postmortem').click()]);
    expect(download.suggestedFilename()).toBe(`postmortem-${INCIDENT_ID}.md`);
    const markdown = readFileSync(await download.path(), 'utf8');
    const served = await http('GET', `${dashboard}/incidents/${INCIDENT_ID}/postmortem?format=md`);
    expect(markdown).toBe(served.text);
    expect(markdown).toContain('Action items');
    await context.close();
  }, 60_000);

  it("shows a viewer of acme only acme's builds, and says incidents are not for its role", async () => {
    const created = await http('POST', `${commands}/principals`, { id: 'acme-viewer', role: 'viewer', orgs: ['acme'] }, apps.as('admin'));
    expect(created.status).toBe(201);
    const issued = await http('POST', `${commands}/principals/acme-viewer/tokens`, { label: 'dashboard' }, apps.as('admin'));
    expect(issued.status).toBe(201);
    const globexBuild = (await queue('globex')).buildId;
    const acme = await queue('acme');
    const acmeBuild = acme.buildId;
    // Both are projected before the page reads the list.
    expect((await http('GET', `${dashboard}/builds/${acmeBuild}?minPosition=${acme.position}`)).status).toBe(200);

    const { context, page } = await openPage();
    await signIn(page, issued.body.token);
    await page.locator(`#builds tr[data-build-id="${acmeBuild}"]`).waitFor();
    expect(await page.locator(`#builds tr[data-build-id="${globexBuild}"]`).count()).toBe(0);
    expect(new Set(await page.locator('#builds tbody tr td:nth-child(2)').allInnerTexts())).toEqual(new Set(['acme']));
    await screenshot(page, 'viewer-builds');

    await page.goto(`${dashboard}/#/incidents`);
    await page.locator('[data-refused="role"]', { hasText: 'not available for your role' }).waitFor();
    await screenshot(page, 'viewer-incidents');
    await context.close();
  }, 60_000);
});
