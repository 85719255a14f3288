import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { closestLang } from './labels.js';

/**
 * Keeps a component's language current: `lang` is the closest `lang` attribute (its own or an
 * ancestor's, across shadow roots), and the host re-renders when any of them changes after load
 * (a page that switches `<html lang>`), observed with a MutationObserver while connected.
 */
export class LangController implements ReactiveController {
  /** The language that applies now. */
  lang = 'en';

  /** Watches the elements from the host up to the one whose `lang` applies; looks again on a change (a removed `lang` moves the watch up). */
  readonly #observer = new MutationObserver(() => this.hostConnected());

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  hostConnected(): void {
    this.#observer.disconnect();
    const lang = closestLang(this.host, (element) => this.#observer.observe(element, { attributeFilter: ['lang'] }));
    if (lang === this.lang) return;
    this.lang = lang;
    this.host.requestUpdate();
  }

  hostDisconnected(): void {
    this.#observer.disconnect();
  }
}
