import { expect, fixture, html } from '@open-wc/testing';
import { closestLang, formatLabel, labelLocale, LIVE_LABELS, resolveLabels } from './labels.js';
import { describe, it } from './testing/mocha.js';

describe('labels', () => {
  it('picks the row for a language tag and falls back to English', () => {
    expect(labelLocale('de')).to.equal('de');
    expect(labelLocale('de-CH')).to.equal('de');
    expect(labelLocale('FR-ca')).to.equal('fr');
    expect(labelLocale('tlh')).to.equal('en');
    expect(labelLocale('')).to.equal('en');
    expect(labelLocale('constructor')).to.equal('en');
  });

  it('lets a page override single labels', () => {
    const labels = resolveLabels('de', { live: 'Jetzt live' });
    expect(labels.live).to.equal('Jetzt live');
    expect(labels.offline).to.equal(LIVE_LABELS.de.offline);
  });

  it('fills placeholders with text taken literally', () => {
    expect(formatLabel('{status}: {title}', { status: 'Live', title: "$& $1 $' {count}" })).to.equal("Live: $& $1 $' {count}");
    expect(formatLabel('{count} watching', {})).to.equal('{count} watching');
  });

  it('finds the closest lang, across shadow roots, then English', async () => {
    const outer = await fixture<HTMLDivElement>(html`<div lang="fr"><section><span id="inner"></span></section></div>`);
    expect(closestLang(outer.querySelector('#inner')!)).to.equal('fr');

    const host = await fixture<HTMLDivElement>(html`<div lang="de"></div>`);
    const inShadow = document.createElement('span');
    host.attachShadow({ mode: 'open' }).append(inShadow);
    expect(closestLang(inShadow)).to.equal('de');

    expect(closestLang(document.createElement('span'))).to.equal('en');
  });
});
