import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { closestLang } from './labels.js';

/**
 * Keeps a component's language current: `lang` is the closest `lang` attribute (its own or an
 * ancestor's, across shadow roots), and the host re-renders when any of them changes after load
 * (a page that switches `<html lang>`), observed with a MutationObserver while connected.
 */
export class LangController implements ReactiveController {
  #observer: MutationObserver | undefined;
  #lang = 'en';

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  /** The language that applies now. */
  get lang(): string {
    return this.#lang;
  }

  hostConnected(): void {
    this.#lang = closestLang(this.host);
    this.#observer = new MutationObserver(() => {
      const lang = closestLang(this.host);
      if (lang === this.#lang) return;
      this.#lang = lang;
      this.host.requestUpdate();
    });
    for (let node: Node | null = this.host; node; node = node.parentNode ?? (node as ShadowRoot).host ?? null) {
      if (node instanceof Element) this.#observer.observe(node, { attributes: true, attributeFilter: ['lang'] });
    }
  }

  hostDisconnected(): void {
    this.#observer?.disconnect();
    this.#observer = undefined;
  }
}
