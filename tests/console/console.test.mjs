// Drives the operator console in Debian's headless Chromium (never a downloaded browser) against a running gateway:
// signs in with an API key, watches a batch complete live, sees stop-loss exits appear without a reload, pauses and
// resumes the agent, and saves screenshots for the README. Run by ConsoleBrowserTests (xunit), which starts the gateway
// and prepares the agent; settings come from the environment. Prints one JSON line; exit code 0 only when every step passed.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env('CONSOLE_BASE_URL');
const key = env('CONSOLE_API_KEY');
const agentId = env('CONSOLE_AGENT_ID');
const symbol = env('CONSOLE_SYMBOL');
const subscribers = Number(env('CONSOLE_SUBSCRIBERS'));
const screenshots = env('CONSOLE_SCREENSHOTS');
const STEP_MS = 30_000;

const result = { steps: [], screenshots: [], pageErrors: [] };
const step = (name) => result.steps.push(name);

async function call(pathname, body) {
  const response = await fetch(new URL(pathname, base), {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${pathname} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

const push = (priceUsd) => call('/api/v1/prices', { prices: [{ symbol, priceUsd: String(priceUsd) }] });

async function shoot(page, name) {
  const file = path.join(screenshots, name);
  await page.screenshot({ path: file, fullPage: true });
  result.screenshots.push(file);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  timeout: STEP_MS,
});
let exitCode = 1;
try {
  await mkdir(screenshots, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (error) => result.pageErrors.push(String(error)));

  await page.goto(new URL('/console/', base).href);
  await page.getByTestId('api-key').fill(key);
  await page.getByTestId('sign-in').click();
  await page.locator('#sign-in').waitFor({ state: 'hidden' });
  await page.locator(`[data-agent-id="${agentId}"]`).click();
  await page.locator('[data-testid="live"][data-state="open"]').waitFor();
  await page.getByTestId('subscriber').nth(subscribers - 1).waitFor();
  step('signed in, agent and subscribers shown, stream live');

  // A few ticks for the chart: each new price once the chart has drawn the previous poll.
  const chartPoints = () => page.locator(`[data-testid="chart-${symbol}"] polyline`).getAttribute('points').then((p) => (p ? p.trim().split(' ').length : 0));
  for (const [i, p] of [100.4, 99.8, 100.9, 100.2, 101.1, 100].entries()) {
    await push(p);
    await page.waitForFunction(([s, n]) => {
      const line = document.querySelector(`[data-testid="chart-${s}"] polyline`);
      return line && line.getAttribute('points').trim().split(' ').length > n;
    }, [symbol, i + 1]);
  }
  step(`price chart drawn (${await chartPoints()} points)`);

  // Nothing below may reload the page: the marker would be gone.
  await page.evaluate(() => { window.__stillTheSamePage = true; });
  const opened = await call('/agent/batch-open', {
    agentId, symbol, action: 'LONG', weight: 50, leverage: 2, orderOptions: { triggerPrice: 0, stopLossPrice: 95, takeProfitPrice: 0 },
  });
  const batch = page.locator(`[data-testid="batch"][data-batch-id="${opened.batchId}"][data-status="completed"]`);
  await batch.waitFor();
  result.batchProgress = await batch.getByTestId('batch-progress').textContent();
  if (!result.batchProgress.startsWith(`${subscribers} / ${subscribers}`)) throw new Error(`the batch shows ${result.batchProgress}`);
  await page.getByTestId('position').nth(subscribers - 1).waitFor();
  await page.getByTestId('fee').first().waitFor();
  step('batch completed live, positions and fees shown');
  await shoot(page, 'console-batch.png');

  await push(94);
  await page.locator('[data-testid="exit"][data-reason="stop_loss"]').nth(subscribers - 1).waitFor();
  result.exits = await page.locator('[data-testid="exit"][data-reason="stop_loss"]').count();
  await page.locator('[data-testid="positions"] [data-testid="position"]').first().waitFor({ state: 'detached' });
  if (!(await page.evaluate(() => window.__stillTheSamePage === true))) throw new Error('the page was reloaded');
  result.reloaded = false;
  step('stop-loss exits appeared live, without a reload');
  await shoot(page, 'console-exits.png');

  await page.getByTestId('pause-toggle').click();
  await page.locator('[data-testid="agent-status"]', { hasText: 'paused' }).waitFor();
  await page.locator('[data-testid="event"][data-type="agent.paused"]').waitFor();
  await page.getByTestId('pause-toggle').click();
  await page.locator('[data-testid="agent-status"]', { hasText: 'active' }).waitFor();
  step('agent paused and resumed');

  if (result.pageErrors.length) throw new Error(`the page reported errors: ${result.pageErrors.join('; ')}`);
  result.ok = true;
  exitCode = 0;
} catch (error) {
  result.ok = false;
  result.error = String(error?.stack ?? error);
  try {
    const [page] = browser.contexts().flatMap((c) => c.pages());
    result.failureScreenshot = path.join(os.tmpdir(), `agentdesk-console-failure-${process.pid}.png`);
    if (page) await page.screenshot({ path: result.failureScreenshot, fullPage: true });
  } catch { /* the failure itself is what matters */ }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(exitCode);
