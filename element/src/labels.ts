import type { LiveStatus } from '@live-upload/schema';

/**
 * The strings one locale needs. Status words are written as spoken; the badge shows them in
 * capitals with CSS, so one word serves the eye and the screen reader. `{status}`, `{title}`
 * and `{count}` are placeholders.
 */
export type LiveLabels = { readonly [S in LiveStatus]: string } & {
  readonly withTitle: string;
  readonly viewers: string;
};

/** Translation table. Add a locale by adding a row; the type makes every row complete. */
export const LIVE_LABELS = {
  en: { live: 'Live', offline: 'Offline', scheduled: 'Soon', withTitle: '{status}: {title}', viewers: '{count} watching' },
  de: { live: 'Live', offline: 'Offline', scheduled: 'Bald', withTitle: '{status}: {title}', viewers: '{count} Zuschauer' },
  fr: { live: 'En direct', offline: 'Hors ligne', scheduled: 'Bientôt', withTitle: '{status}\u00a0: {title}', viewers: '{count} spectateurs' },
} as const satisfies Record<string, LiveLabels>;

export type LiveLabelLocale = keyof typeof LIVE_LABELS;

/** The table row for a BCP 47 tag (`de-CH` -> `de`), English when there is none. */
export function labelLocale(lang: string): LiveLabelLocale {
  const base = lang.toLowerCase().split('-')[0] ?? '';
  return Object.hasOwn(LIVE_LABELS, base) ? (base as LiveLabelLocale) : 'en';
}

/** Labels for `lang`, with a page's overrides on top. */
export function resolveLabels(lang: string, overrides?: Partial<LiveLabels>): LiveLabels {
  return { ...LIVE_LABELS[labelLocale(lang)], ...overrides };
}

/**
 * The `lang` that applies to an element: its own or its closest ancestor's, across shadow roots.
 * `visit` sees each element looked at, from the element up to the one whose `lang` applies:
 * exactly those whose `lang` can change the answer.
 */
export function closestLang(element: Element, visit?: (element: Element) => void): string {
  for (let node: Node | null = element; node; node = node.parentNode ?? (node as ShadowRoot).host ?? null) {
    if (node instanceof Element) {
      visit?.(node);
      const lang = node.getAttribute('lang');
      if (lang) return lang;
    }
  }
  return 'en';
}

/** Fills `{name}` placeholders. Values are plain text; the template renders them escaped. */
export function formatLabel(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) => values[name] ?? match);
}
