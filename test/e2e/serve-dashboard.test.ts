/**
 * The dashboard of `camtrack serve` in a real browser: Debian's chromium driven by playwright-core (headless, no
 * sandbox) against a real server with 3 cameras (walking.mp4 looping at its own rate, fpsLimit 5 each) and a real
 * model. The token given once as /?token=… becomes the HttpOnly camtrack_token cookie and leaves the address bar; one
 * tile per camera; fps text that updates; boxes drawn on the canvas (the tile's data-boxes, and the canvas holds a
 * picture); analytics counters per line and zone for the camera that has them; a camera removed over REST loses its tile; a browser without the token gets the login form, a wrong token
 * the "not accepted" message. A screenshot is kept in test-results/dashboard/ (git-ignored; docs/serve.md).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { assetPath, describeWithAssets } from '../helpers/assets.js';
import { killAllTracked } from '../helpers/processes.js';
import { startServe, type TestServer } from '../helpers/serve.js';
import { lazyTempDir } from '../helpers/temp-dir.js';

const MODEL = 'models/yolo11n_int8_320.onnx';
/** SOURCES.md: pedestrians, H.264 1280x720, 25 fps, 341 frames. */
const WALKING = 'videos/walking.mp4';
const TOKEN = 'test-token-dashboard-0123456789';
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-results/dashboard');
const CAMERAS = ['north', 'south', 'gate'];
const tmp = lazyTempDir('camtrack-serve-dashboard-');
const chromiumReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (scripts/install-system-deps.sh --with-test-deps installs chromium)`;

describeWithAssets('camtrack serve: the dashboard in chromium', [MODEL, WALKING], () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (chromiumReason) {
      if (process.env.CI === 'true') throw new Error(chromiumReason); // CI installs it: its absence is a failure
      return; // every test below is skipped with the reason
    }
    s = await startServe({ model: assetPath(MODEL), serve: { token: TOKEN, stateFile: path.join(tmp(), 'cameras.json') } });
    for (const id of CAMERAS) {
      // 'north' counts a line across the middle of the frame and a zone over its lower half (docs/analytics.md).
      const analytics =
        id === 'north'
          ? { analytics: { lines: [{ id: 'middle', start: [0, 360], end: [1280, 360] }], zones: [{ id: 'lower', polygon: [[0, 360], [1280, 360], [1280, 720], [0, 720]] }] } }
          : {};
      const payload = { id, url: assetPath(WALKING), live: true, loop: true, fpsLimit: 5, ...analytics };
      const r = await s.inject({ method: 'POST', url: '/api/v1/cameras', headers: s.auth, payload });
      expect(r.statusCode).toBe(201);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
    await killAllTracked();
  });

  it.skipIf(chromiumReason)('takes the token once: an HttpOnly cookie, and the address bar keeps no token', async () => {
    await page.goto(`${s.url}/?token=${TOKEN}`);
    expect(page.url()).toBe(`${s.url}/`);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'camtrack_token');
    expect(cookie).toMatchObject({ value: TOKEN, httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.locator('#login').isHidden()).toBe(true);
  });

  it.skipIf(chromiumReason)('one tile per camera, fps text that updates, boxes drawn over the picture', async () => {
    const tiles = page.locator('section.tile');
    await expect.poll(() => tiles.count(), { timeout: 30_000 }).toBe(3);
    expect((await tiles.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.camera))).sort()).toEqual([...CAMERAS].sort());
    const north = page.locator('section.tile[data-camera="north"]');
    // fps: a number > 0 once results flow, rewritten from fresh stats every second (counted with a MutationObserver:
    // setting textContent replaces the text node even when the value is the same, so a steady rate counts too).
    await expect.poll(async () => Number.parseFloat((await north.locator('.fps').textContent()) ?? ''), { timeout: 60_000 }).toBeGreaterThan(0);
    const rewrites = await north.locator('.fps').evaluate(
      (el) =>
        new Promise<number>((resolve) => {
          let n = 0;
          const observer = new MutationObserver((records) => (n += records.length));
          observer.observe(el, { childList: true, characterData: true, subtree: true });
          setTimeout(() => {
            observer.disconnect();
            resolve(n);
          }, 4500);
        }),
    );
    expect(rewrites).toBeGreaterThanOrEqual(2);
    // The state as the API says it (a looping file passes through 'reconnecting' at each end of the clip).
    await expect.poll(() => north.locator('.state').textContent(), { timeout: 30_000 }).toBe('live');
    // Boxes: the people of walking.mp4 drawn on the canvas (their tracks with ids, or their detections while no track
    // is confirmed: at the 2-5 fps a loaded machine gives here ByteTrack may confirm none).
    await expect.poll(async () => Number(await north.getAttribute('data-boxes')), { timeout: 60_000 }).toBeGreaterThan(0);
    // The canvas holds the camera's picture (not a blank): its pixels vary.
    const picture = () =>
      north.locator('canvas').evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let min = 255;
        let max = 0;
        for (let i = 0; i < d.length; i += 4 * 97) {
          min = Math.min(min, d[i]!);
          max = Math.max(max, d[i]!);
        }
        return { w: c.width, h: c.height, varied: max - min > 60 };
      });
    await expect.poll(picture, { timeout: 30_000 }).toEqual({ w: 1280, h: 720, varied: true });
    // Analytics counters of the camera that has them: one row per line (in, out) and per zone (inside); none elsewhere.
    await expect.poll(() => north.locator('.analytics').isVisible(), { timeout: 30_000 }).toBe(true);
    const rows = await north.locator('.analytics tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).innerText.replace(/\s+/g, ' ').trim()));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^line middle in \d+ out \d+$/);
    expect(rows[1]).toMatch(/^zone lower \d+ inside$/);
    expect(await page.locator('section.tile[data-camera="south"] .analytics').isVisible()).toBe(false);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png') });
  }, 150_000);

  it.skipIf(chromiumReason)("a camera removed over REST loses its tile; the others stay", async () => {
    expect((await s.inject({ method: 'DELETE', url: '/api/v1/cameras/gate', headers: s.auth })).statusCode).toBe(204);
    await expect.poll(() => page.locator('section.tile[data-camera="gate"]').count(), { timeout: 15_000 }).toBe(0);
    expect(await page.locator('section.tile').count()).toBe(2);
    expect(await page.locator('#summary').textContent()).toMatch(/^2 cameras/);
  }, 30_000);

  it.skipIf(chromiumReason)('without the token: the login form; a wrong token: not accepted; the page itself is public', async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${s.url}/`);
    await expect.poll(() => p.locator('#login').isVisible(), { timeout: 10_000 }).toBe(true);
    await p.fill('#login input[name=token]', 'wrong-token-0123456789');
    await p.click('#login button');
    await expect.poll(() => p.locator('#login-message').textContent(), { timeout: 10_000 }).toMatch(/not accepted/);
    expect(p.url()).toBe(`${s.url}/#denied`);
    expect((await other.cookies()).find((c) => c.name === 'camtrack_token')).toBeUndefined();
    await other.close();
    expect(s.logs()).not.toContain(TOKEN);
  }, 30_000);
});
