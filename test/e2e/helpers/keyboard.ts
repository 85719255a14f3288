import type { Page } from 'playwright-core';

/** What has keyboard focus, described the way a user hears it: `tag:label or text`. */
export function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return 'body';
    const label = element.id ? document.querySelector(`label[for="${element.id}"]`)?.textContent : undefined;
    return `${element.tagName.toLowerCase()}:${(label ?? element.textContent ?? '').trim()}`;
  });
}

/** Presses Tab until `target` has focus, at most `limit` times; returns what was focused on the way. */
export async function tabTo(page: Page, target: string, limit = 15): Promise<string[]> {
  const visited: string[] = [];
  for (let presses = 0; presses < limit; presses += 1) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    visited.push(now);
    if (now === target) return visited;
  }
  throw new Error(`Tab never reached ${target} in ${limit} presses; it visited ${visited.join(', ')}`);
}
