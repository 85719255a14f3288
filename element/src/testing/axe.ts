import type { AxeResults } from 'axe-core';

/** axe-core's own script, loaded once into the test page (its UMD build sets `window.axe`). */
export async function axe(): Promise<{ run(context: Element): Promise<AxeResults> }> {
  const page = window as unknown as { axe?: { run(context: Element): Promise<AxeResults> } };
  if (!page.axe) {
    const script = document.createElement('script');
    script.src = '/node_modules/axe-core/axe.min.js';
    const loaded = new Promise((resolve, reject) => {
      script.onload = resolve;
      script.onerror = reject;
    });
    document.head.append(script);
    await loaded;
  }
  return page.axe!;
}
