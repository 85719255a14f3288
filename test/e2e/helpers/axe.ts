import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AxeResults, RunOptions } from 'axe-core';
import type { Page } from 'playwright-core';

/** axe-core's browser bundle, to inject into a page. */
export function readAxeSource(): Promise<string> {
  return readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
}

/**
 * Runs axe on the whole page (injecting it first if needed) and returns only the violations.
 * Injected by evaluation, not as a `<script>`: our pages' CSP refuses inline scripts.
 */
export async function axeViolations(page: Page, axeSource: string): Promise<AxeResults> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(
    (options) => (window as unknown as { axe: { run(context: Document, options: RunOptions): Promise<AxeResults> } }).axe.run(document, options),
    { resultTypes: ['violations'] } satisfies RunOptions,
  );
}

/** One line per violation and the nodes it found, for an assertion message. */
export function describeViolations(results: AxeResults): string {
  return results.violations
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help}\n    ${violation.nodes.map((node) => `${JSON.stringify(node.target)} ${node.failureSummary ?? ''}`.trim()).join('\n    ')}`)
    .join('\n');
}
