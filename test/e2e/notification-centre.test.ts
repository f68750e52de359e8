/**
 * The notification centre in a real browser (Debian's Chromium through playwright-core) against Herald in a
 * child process: the page is the build `npm start` serves at /app, events are published through the API with
 * the SDK's publisher, and what a user sees is checked through roles and accessible names. Each test has its
 * own user, so tests do not see each other's events. Screenshots go to test/artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createHeraldPublisher, type EventTypeName, type HeraldPublisher, type PayloadMap, type PublishOptions } from '../../clients/sdk/src/index.js';
import { createChildServer, type ChildServer } from '../utils/child-server.js';
import { startHttpProxy } from '../utils/http-proxy.js';
import { payloadOf } from '../utils/sdk.js';
import { browserSkipReason, ensureWebBuild, launchBrowser, screenshot } from './browser.js';

const skip = browserSkipReason();
let server: ChildServer;
let restartable: ChildServer;
let browser: Browser;
let publisher: HeraldPublisher;
let restartablePublisher: HeraldPublisher;
let userSeq = 0;

const newUser = (prefix = 'cus') => `${prefix}_e2e${Date.now().toString(36)}${++userSeq}`;

async function publishTo<T extends EventTypeName>(userId: string, type: T, overrides: Record<string, unknown> = {}, options: PublishOptions = {}, via = publisher) {
  return via.publish(type, payloadOf(type, overrides) as PayloadMap[T], { userId, ...options });
}

async function openCentre(context: BrowserContext, token: string, hub = server): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${hub.url}/app#token=${token}`);
  await page.locator('.connection[data-state="connected"]').waitFor({ timeout: 15_000 });
  return page;
}

const bell = (page: Page) => page.getByRole('button', { name: /^Notifications, / });
const bellName = (page: Page) => bell(page).getAttribute('aria-label');
/** Waits until the bell's accessible name is `name` (the count comes from the hub, live). */
const bellSays = (page: Page, name: string, timeout = 5000) => page.getByRole('button', { name, exact: true }).waitFor({ timeout });
const rows = (page: Page) => page.getByRole('list', { name: 'Notification list' }).getByRole('listitem');

/** What the hub holds for this user, asked over HTTP with the user's token (not through the page). */
async function hubState(token: string) {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ notificationState { unreadCount } notifications(first: 100) { edges { node { read event { id } } } } }' }),
  });
  const body = (await response.json()) as { data: { notificationState: { unreadCount: number }; notifications: { edges: Array<{ node: { read: boolean; event: { id: string } } }> } } };
  return { unread: body.data.notificationState.unreadCount, listed: body.data.notifications.edges.map((e) => e.node) };
}

describe.skipIf(skip !== null)('notification centre at /app (browser)', () => {
  beforeAll(async () => {
    ensureWebBuild();
    [server, restartable] = await Promise.all([createChildServer(), createChildServer()]);
    [browser] = await Promise.all([launchBrowser(), server.start(), restartable.start()]);
    publisher = createHeraldPublisher({ url: server.graphqlUrl, token: server.token('svc-e2e', 'service'), source: 'e2e-tests' });
    restartablePublisher = createHeraldPublisher({ url: restartable.graphqlUrl, token: server.token('svc-e2e', 'service'), source: 'e2e-tests' });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.dispose(), restartable?.dispose()]);
  });


  it('asks for a token without one, and refuses one that is not a JWT', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/app`);
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not a JWT');
    await screenshot(page, '00-sign-in');
    await context.close();
  });

  it('takes the token from the fragment, removes it from the address bar and goes live over WebSocket', async () => {
    const user = newUser();
    const context = await browser.newContext();
    const page = await openCentre(context, server.token(user, 'customer'));
    expect(page.url()).toBe(`${server.url}/app`);
    expect(await page.locator('.connection').getAttribute('data-transport')).toBe('websocket');
    expect(await page.locator('.connection').textContent()).toContain('Live');
    expect(await bellName(page)).toBe('Notifications, none unread');
    // A reload stays signed in (sessionStorage of this tab), with nothing in the URL.
    await page.reload();
    await page.locator('.connection[data-state="connected"]').waitFor();
    expect(page.url()).toBe(`${server.url}/app`);
    await screenshot(page, '01-live-empty');
    await context.close();
  });

  it.concurrent('shows a toast per live event: role=status closing after 5 s, role=alert for critical after 10 s, a close button, details on click', async () => {
    const user = newUser();
    const context = await browser.newContext();
    const page = await openCentre(context, server.token(user, 'customer'));
    const confirmed = await publishTo(user, 'ORDER_CONFIRMED', { customerId: user, preparationMinutes: 12 });
    const failed = await publishTo(user, 'PAYMENT_FAILED', { customerId: user });
    const cancelled = await publishTo(user, 'ORDER_CANCELLED', { customerId: user }, { level: 'CRITICAL' }); // left alone: closes at 10 s
    const medium = page.locator(`.toast[data-event-id="${confirmed.id}"]`);
    const critical = page.locator(`.toast[data-event-id="${failed.id}"]`);
    const untouched = page.locator(`.toast[data-event-id="${cancelled.id}"]`);
    await Promise.all([medium.waitFor(), critical.waitFor(), untouched.waitFor()]);
    const shownAt = Date.now();
    expect(await medium.getAttribute('role')).toBe('status');
    expect(await medium.textContent()).toContain('Order confirmed');
    expect(await medium.textContent()).toContain('ready in 12 min');
    expect(await critical.getAttribute('role')).toBe('alert');
    expect(await critical.textContent()).toContain('Payment failed');
    expect(await critical.textContent()).toContain('Your card has insufficient funds.');
    expect(await critical.evaluate((el) => getComputedStyle(el).borderLeftColor)).not.toBe(await medium.evaluate((el) => getComputedStyle(el).borderLeftColor));
    await screenshot(page, '02-toasts');

    // The close button closes one at once; a click on a toast opens its details.
    const ready = await publishTo(user, 'ORDER_READY', { customerId: user, pickupCode: 'Z9Q1' });
    const third = page.locator(`.toast[data-event-id="${ready.id}"]`);
    await third.waitFor();
    await third.getByRole('button', { name: 'Dismiss “Order ready for pick-up”' }).click();
    await third.waitFor({ state: 'detached', timeout: 1000 });
    await page.mouse.move(5, 300); // off the toasts: a toast under the pointer holds its timer

    await medium.waitFor({ state: 'detached', timeout: 8000 });
    const mediumGoneAfter = Date.now() - shownAt;
    expect(mediumGoneAfter).toBeGreaterThan(4000);
    expect(mediumGoneAfter).toBeLessThan(9000);
    expect(await critical.count()).toBe(1); // still there after 5 s

    await critical.locator('.toast__body').click();
    const dialog = page.getByRole('dialog', { name: 'Payment failed' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(failed.id);
    await screenshot(page, '03-details');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.mouse.move(5, 300);
    // Each event was shown once: one toast per id, never again.
    expect(await page.locator(`.toast[data-event-id="${failed.id}"]`).count()).toBe(0);

    // The critical toast nobody touched closes by itself after 10 s.
    expect(await untouched.getAttribute('role')).toBe('alert');
    await untouched.waitFor({ state: 'detached', timeout: 15_000 });
    const criticalGoneAfter = Date.now() - shownAt;
    expect(criticalGoneAfter).toBeGreaterThan(9000);
    expect(criticalGoneAfter).toBeLessThan(14_000);
    await context.close();
  }, 30_000);

  // On a hub of its own (it kills and restarts it), beside the toast test: both mostly wait.
  it.concurrent('says so when the connection drops, reconnects when the hub is back, and loses nothing meanwhile', async () => {
    const user = newUser();
    const context = await browser.newContext();
    const page = await openCentre(context, restartable.token(user, 'customer'), restartable);
    const before = await publishTo(user, 'ORDER_CREATED', { customerId: user }, {}, restartablePublisher);
    await page.locator(`.toast[data-event-id="${before.id}"]`).waitFor();
    await restartable.kill('SIGKILL');
    await page.locator('.connection[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('.connection').textContent()).toContain('Reconnecting');
    await screenshot(page, '08-reconnecting');
    await restartable.start();
    const missed = await publishTo(user, 'ORDER_CONFIRMED', { customerId: user }, {}, restartablePublisher);
    await page.locator('.connection[data-state="connected"]').waitFor({ timeout: 20_000 });
    await page.locator(`.toast[data-event-id="${missed.id}"]`).waitFor({ timeout: 10_000 });
    await bellSays(page, 'Notifications, 2 unread');
    await context.close();
  }, 45_000);

  it('follows a delivery in the tracking panel: status steps, ETA and the last position on the SVG track', async () => {
    const user = newUser();
    const deliveryId = `dlv_e2e${Date.now().toString(36)}`;
    const context = await browser.newContext();
    const page = await openCentre(context, server.token(user, 'customer'));
    const base = { deliveryId, customerId: user };
    await publishTo(user, 'DELIVERY_ACCEPTED', { ...base, deliveryPartnerName: 'Mina R.' });
    const panel = page.getByRole('region', { name: /Delivery tracking/ });
    await panel.locator(`[data-delivery-id="${deliveryId}"]`).waitFor();
    await publishTo(user, 'DELIVERY_PICKED_UP', { ...base, pickupLocation: { latitude: 52.52, longitude: 13.4 } });
    for (const [i, [latitude, longitude]] of [
      [52.522, 13.404],
      [52.525, 13.409],
      [52.5281, 13.4132],
    ].entries()) {
      await publishTo(user, 'LOCATION_UPDATED', { deliveryId, latitude, longitude, speedKmh: 20 + i, recordedAt: new Date().toISOString() });
    }
    const etaAt = new Date(Date.now() + 12 * 60_000).toISOString();
    await publishTo(user, 'ETA_UPDATED', { ...base, etaAt, etaSeconds: 720, delayReason: 'traffic' });

    await panel.getByText('Last position 52.5281, 13.4132').waitFor();
    await panel.getByText(/in 1[12] min/).waitFor();
    expect(await panel.locator('[aria-current="step"]').textContent()).toContain('Picked up');
    expect(await panel.getByRole('img', { name: /Courier’s last position: 52\.5281, 13\.4132/ }).count()).toBe(1);
    // The route so far: pick-up and three positions.
    const points = (await panel.locator('polyline.track-map__route').getAttribute('points'))!.trim().split(/\s+/);
    expect(points).toHaveLength(4);
    await screenshot(page, '04-tracking');

    await publishTo(user, 'DELIVERY_ARRIVED', { ...base, arrivalLocation: { latitude: 52.529, longitude: 13.414 } });
    await page.waitForFunction(() => document.querySelector('[aria-current="step"]')?.textContent?.includes('Arrived'));
    await context.close();
  });

  it('fills the list from the hub on load, counts unread on the bell, pages into older history, filters, marks read, marks all read, archives and clears all', async () => {
    const user = newUser();
    const token = server.token(user, 'customer');
    // 22 events before the page opens (what happened while it was closed): one more than a page.
    await publisher.publishMany([
      ...Array.from({ length: 20 }, (_, i) => ({ type: 'ORDER_CONFIRMED' as const, payload: payloadOf('ORDER_CONFIRMED', { customerId: user, orderId: `ord_old${i}` }), userId: user })),
      { type: 'PAYMENT_COMPLETED' as const, payload: payloadOf('PAYMENT_COMPLETED', { customerId: user }), userId: user },
      { type: 'ORDER_CREATED' as const, payload: payloadOf('ORDER_CREATED', { customerId: user }), userId: user },
    ]);
    const context = await browser.newContext();
    const page = await openCentre(context, token);
    await bellSays(page, 'Notifications, 22 unread');
    expect(await page.locator('.bell__badge').textContent()).toBe('22');

    await bell(page).click();
    const panel = page.getByRole('dialog', { name: 'Notifications' });
    await panel.waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.panel__list > li').length === 20);
    expect(await rows(page).first().textContent()).toContain('New order');
    expect(await rows(page).first().textContent()).toContain('just now');
    await panel.getByRole('button', { name: 'Show older' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.panel__list > li').length === 22);
    expect(await panel.getByRole('button', { name: 'Show older' }).count()).toBe(0);

    // A live one goes on top and on the count.
    const live = await publishTo(user, 'ORDER_READY', { customerId: user, pickupCode: 'L1V3' });
    await bellSays(page, 'Notifications, 23 unread');
    expect(await rows(page).first().getAttribute('data-event-id')).toBe(live.id);
    const ids = await rows(page).evaluateAll((els) => els.map((el) => el.getAttribute('data-event-id')));
    expect(new Set(ids).size).toBe(ids.length); // each event once, whether it came in a page or live
    await screenshot(page, '05-bell-open');

    // Filter by domain: payments only.
    await panel.getByLabel('Domain').selectOption('payment');
    await page.waitForFunction(() => document.querySelectorAll('.panel__list > li').length === 1);
    expect(await rows(page).first().textContent()).toContain('Payment completed');
    await panel.getByLabel('Domain').selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('.panel__list > li').length === 20);

    // Mark one read: the count drops here and on the hub.
    await panel.getByRole('button', { name: 'Mark “Order ready for pick-up” as read' }).click();
    await bellSays(page, 'Notifications, 22 unread');
    await expect.poll(async () => (await hubState(token)).unread, { timeout: 5000 }).toBe(22);
    expect((await hubState(token)).listed.find((n) => n.event.id === live.id)?.read).toBe(true);

    // Unread filter leaves the read one out.
    await panel.getByRole('button', { name: 'Unread', exact: true }).click();
    await page.waitForFunction((id) => document.querySelectorAll('.panel__list > li').length > 0 && !document.querySelector(`.panel__list > li[data-event-id="${id}"]`), live.id);
    await panel.getByRole('button', { name: 'All', exact: true }).click();

    // Mark all read.
    await panel.getByRole('button', { name: 'Mark all read' }).click();
    await bellSays(page, 'Notifications, none unread');
    await expect.poll(async () => (await hubState(token)).unread, { timeout: 5000 }).toBe(0);
    expect(await page.locator('.bell__badge').count()).toBe(0);

    // Archive one: it leaves the list, here and on the hub.
    const archived = await rows(page).first().getAttribute('data-event-id');
    await rows(page).first().getByRole('button', { name: /^Archive/ }).click();
    await page.locator(`.panel__list > li[data-event-id="${archived}"]`).waitFor({ state: 'detached' });
    await expect.poll(async () => (await hubState(token)).listed.some((n) => n.event.id === archived), { timeout: 5000 }).toBe(false);

    // Clear all: an empty list, which a reload reads back from the hub.
    await publishTo(user, 'PAYMENT_FAILED', { customerId: user });
    await bellSays(page, 'Notifications, 1 unread');
    await panel.getByRole('button', { name: 'Clear all' }).click();
    await panel.getByText('Nothing here yet').waitFor();
    await bellSays(page, 'Notifications, none unread');
    await expect.poll(async () => (await hubState(token)).listed.length, { timeout: 5000 }).toBe(0);
    await page.reload();
    await page.locator('.connection[data-state="connected"]').waitFor();
    await bellSays(page, 'Notifications, none unread');
    await bell(page).click();
    await panel.getByText('Nothing here yet').waitFor();
    await context.close();
  }, 30_000);

  it('keeps read state in step between two browser contexts of the same user, live', async () => {
    const user = newUser('dp');
    const token = server.token(user, 'delivery_partner');
    // A desktop and a phone.
    const [contextA, contextB] = await Promise.all([browser.newContext(), browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })]);
    const [a, b] = await Promise.all([openCentre(contextA, token), openCentre(contextB, token)]);
    const earning = await publishTo(user, 'EARNING_RECORDED', { deliveryPartnerId: user });
    const payout = await publishTo(user, 'PAYOUT_COMPLETED', { payeeId: user });
    await Promise.all([bellSays(a, 'Notifications, 2 unread'), bellSays(b, 'Notifications, 2 unread')]);
    await Promise.all([bell(a).click(), bell(b).click()]);

    // Read on A: B's count and row follow without a reload.
    await a.getByRole('button', { name: 'Mark “Earning recorded” as read' }).click();
    await bellSays(b, 'Notifications, 1 unread');
    await b.waitForFunction((id) => !document.querySelector(`.panel__list > li[data-event-id="${id}"]`)?.classList.contains('row--unread'), earning.id);
    await screenshot(b, '06-synced-other-context');

    // Mark all read on B: A follows.
    await b.getByRole('button', { name: 'Mark all read' }).click();
    await bellSays(a, 'Notifications, none unread');

    // Archive on A: the row leaves B's list.
    await a.getByRole('button', { name: 'Archive “Payout completed”' }).click();
    await b.locator(`.panel__list > li[data-event-id="${payout.id}"]`).waitFor({ state: 'detached' });
    await Promise.all([contextA.close(), contextB.close()]);
  }, 40_000);

  it('is usable from the keyboard: Tab reaches the bell, Enter opens the list, Escape closes it and gives focus back', async () => {
    const user = newUser();
    const context = await browser.newContext({ colorScheme: 'dark' });
    const page = await openCentre(context, server.token(user, 'customer'));
    await publishTo(user, 'ORDER_CONFIRMED', { customerId: user });
    await bellSays(page, 'Notifications, 1 unread');
    const focusedName = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '');
    for (let i = 0; i < 5 && !(await focusedName()).startsWith('Notifications'); i++) await page.keyboard.press('Tab');
    expect(await focusedName()).toBe('Notifications, 1 unread');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Notifications' }).waitFor();
    expect(await bell(page).getAttribute('aria-expanded')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('All');
    await screenshot(page, '11-keyboard-dark');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Notifications' }).waitFor({ state: 'hidden' });
    expect(await focusedName()).toBe('Notifications, 1 unread');
    await context.close();
  });

  it('keeps per-type preferences in this browser: no toast where turned off, the Web Audio chime where on', async () => {
    const user = newUser();
    const context = await browser.newContext();
    // Counts the oscillators the page starts (the chime is two notes made with Web Audio, no file).
    await context.addInitScript(() => {
      const original = AudioContext.prototype.createOscillator;
      (window as unknown as { oscillators: number }).oscillators = 0;
      AudioContext.prototype.createOscillator = function (this: AudioContext) {
        (window as unknown as { oscillators: number }).oscillators++;
        return original.call(this);
      };
    });
    const page = await openCentre(context, server.token(user, 'customer'));
    await page.getByText(/^Per event type/).click(); // also the user gesture that lets audio start
    const toastPref = page.getByRole('checkbox', { name: 'Toast for “Order confirmed”' });
    expect(await toastPref.isChecked()).toBe(true);
    await toastPref.uncheck();
    const quiet = await publishTo(user, 'ORDER_CONFIRMED', { customerId: user });
    const chimed = await publishTo(user, 'PAYMENT_COMPLETED', { customerId: user });
    await page.locator(`.toast[data-event-id="${chimed.id}"]`).waitFor();
    await bellSays(page, 'Notifications, 2 unread'); // in the list all the same
    expect(await page.locator(`.toast[data-event-id="${quiet.id}"]`).count()).toBe(0);
    await expect.poll(() => page.evaluate(() => (window as unknown as { oscillators: number }).oscillators), { timeout: 5000 }).toBe(2);
    await screenshot(page, '10-preferences');
    await page.reload();
    await page.getByText(/^Per event type/).click();
    expect(await page.getByRole('checkbox', { name: 'Toast for “Order confirmed”' }).isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: 'Sound for “Payment completed”' }).isChecked()).toBe(true);
    await context.close();
  });

  it('shows admins a live dashboard: critical events and system alerts as they come, today by level, the event rate', async () => {
    const admin = newUser('adm');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await openCentre(context, server.token(admin, 'admin'));
    const dashboard = page.getByRole('region', { name: /Live dashboard/ });
    await dashboard.waitFor();
    const criticalBefore = Number(await dashboard.getByRole('list', { name: 'Today’s events by level' }).locator('.level-critical .levels__count').textContent());
    const alert = await publishTo(admin, 'SYSTEM_ALERT', { component: 'payments-gateway', message: 'Error rate above 5% for 3 minutes' });
    const feed = dashboard.getByRole('list', { name: 'Critical events and system alerts' });
    await feed.getByText('Error rate above 5% for 3 minutes').waitFor();
    await expect
      .poll(async () => Number(await dashboard.locator('.level-critical .levels__count').textContent()), { timeout: 5000 })
      .toBeGreaterThan(criticalBefore);
    await expect.poll(async () => Number(await dashboard.getByTestId('live-rate').textContent()), { timeout: 5000 }).toBeGreaterThan(0);
    expect(await page.locator(`.toast[data-event-id="${alert.id}"]`).getAttribute('role')).toBe('alert');
    await screenshot(page, '07-admin-dashboard');
    await context.close();
  });

  it('falls back to SSE behind a proxy that refuses WebSocket, says so, and still gets everything', async () => {
    const proxy = await startHttpProxy(server.port, 'refuse');
    try {
      const user = newUser();
      const token = server.token(user, 'customer');
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${proxy.port}/app#token=${token}`);
      await page.locator('.connection[data-transport="sse"]').waitFor({ timeout: 20_000 });
      expect(await page.locator('.connection').textContent()).toContain('SSE fallback');
      const event = await publishTo(user, 'PAYMENT_COMPLETED', { customerId: user });
      await page.locator(`.toast[data-event-id="${event.id}"]`).waitFor();
      await bellSays(page, 'Notifications, 1 unread');
      await bell(page).click();
      await page.getByRole('button', { name: 'Mark “Payment completed” as read' }).click();
      await bellSays(page, 'Notifications, none unread');
      await expect.poll(async () => (await hubState(token)).unread, { timeout: 5000 }).toBe(0);
      expect(proxy.upgrades).toBeGreaterThan(0);
      await screenshot(page, '09-sse-fallback');
      await context.close();
    } finally {
      await proxy.close();
    }
  }, 40_000);
});
