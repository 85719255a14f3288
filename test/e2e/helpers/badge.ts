import type { Locator, Page } from 'playwright-core';

/**
 * The badge's live region: the one sentence assistive technology reads ("Live: {title}"),
 * found through the shadow root by its role, as a screen reader user meets it.
 */
export function badgeStatus(page: Page, badge: string): Locator {
  return page.locator(badge).getByRole('status');
}

/** The visible pill text, as rendered (CSS capitals included): "LIVE", "OFFLINE". */
export async function badgePillText(page: Page, badge: string): Promise<string> {
  return (await page.locator(badge).locator('[part="label"]').innerText()).trim();
}

/**
 * Waits, with Playwright's polling, until the badge's live region says `expected`. On timeout
 * the error says what it said instead.
 */
export async function waitForBadge(page: Page, badge: string, expected: RegExp, timeoutMs = 10_000): Promise<void> {
  const status = badgeStatus(page, badge);
  try {
    await status.filter({ hasText: expected }).waitFor({ state: 'attached', timeout: timeoutMs });
  } catch (error) {
    const said = await status.textContent({ timeout: 1_000 }).catch(() => '(no live region)');
    throw new Error(`${badge} on ${page.url()} did not say ${expected} within ${timeoutMs} ms; it says ${JSON.stringify(said)}`, {
      cause: error,
    });
  }
}

/** Collects uncaught page errors, so a test can assert the page ran clean. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
