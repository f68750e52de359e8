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
import { payloadOf } from '../utils/sdk.js';
import { browserSkipReason, ensureWebBuild, launchBrowser, screenshot } from './browser.js';

const skip = browserSkipReason();
let server: ChildServer;
let browser: Browser;
let publisher: HeraldPublisher;
let userSeq = 0;

const newUser = (prefix = 'cus') => `${prefix}_e2e${Date.now().toString(36)}${++userSeq}`;

async function publishTo<T extends EventTypeName>(userId: string, type: T, overrides: Record<string, unknown> = {}, options: PublishOptions = {}) {
  return publisher.publish(type, payloadOf(type, overrides) as PayloadMap[T], { userId, ...options });
}

async function openCentre(context: BrowserContext, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.url}/app#token=${token}`);
  await page.locator('.connection[data-state="connected"]').waitFor({ timeout: 15_000 });
  return page;
}

const bell = (page: Page) => page.getByRole('button', { name: /^Notifications, / });
const bellName = (page: Page) => bell(page).getAttribute('aria-label');

describe.skipIf(skip !== null)('notification centre at /app (browser)', () => {
  beforeAll(async () => {
    ensureWebBuild();
    server = await createChildServer();
    [browser] = await Promise.all([launchBrowser(), server.start()]);
    publisher = createHeraldPublisher({ url: server.graphqlUrl, token: server.token('svc-e2e', 'service'), source: 'e2e-tests' });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
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

  it('shows a toast per live event: role=status closing after 5 s, role=alert for critical after 10 s, a close button, details on click', async () => {
    const user = newUser();
    const context = await browser.newContext();
    const page = await openCentre(context, server.token(user, 'customer'));
    const confirmed = await publishTo(user, 'ORDER_CONFIRMED', { customerId: user, preparationMinutes: 12 });
    const failed = await publishTo(user, 'PAYMENT_FAILED', { customerId: user });
    const medium = page.locator(`.toast[data-event-id="${confirmed.id}"]`);
    const critical = page.locator(`.toast[data-event-id="${failed.id}"]`);
    await Promise.all([medium.waitFor(), critical.waitFor()]);
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

    await medium.waitFor({ state: 'detached', timeout: 8000 });
    const mediumGoneAfter = Date.now() - shownAt;
    expect(mediumGoneAfter).toBeGreaterThan(4000);
    expect(mediumGoneAfter).toBeLessThan(7000);
    expect(await critical.count()).toBe(1); // still there after 5 s

    await critical.locator('.toast__body').click();
    const dialog = page.getByRole('dialog', { name: 'Payment failed' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(failed.id);
    await screenshot(page, '03-details');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // Each event was shown once: one toast per id, never again.
    expect(await page.locator(`.toast[data-event-id="${failed.id}"]`).count()).toBe(0);
    await context.close();
  });

  it('a critical toast closes by itself after 10 s', async () => {
    const user = newUser('sup');
    const context = await browser.newContext();
    const page = await openCentre(context, server.token(user, 'supplier'));
    const alert = await publishTo(user, 'INVENTORY_ALERT', { supplierId: user, productName: 'Oat milk' }, { level: 'CRITICAL' });
    const toast = page.locator(`.toast[data-event-id="${alert.id}"]`);
    await toast.waitFor();
    const shownAt = Date.now();
    expect(await toast.getAttribute('role')).toBe('alert');
    await toast.waitFor({ state: 'detached', timeout: 13_000 });
    const goneAfter = Date.now() - shownAt;
    expect(goneAfter).toBeGreaterThan(9000);
    expect(goneAfter).toBeLessThan(12_000);
    await context.close();
  }, 20_000);

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
});
