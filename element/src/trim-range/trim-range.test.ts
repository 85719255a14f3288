import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys, sendMouse } from '@web/test-runner-commands';
import { axe } from '../testing/axe.js';
import { describe, it } from '../testing/mocha.js';
import { LiveTrimRange } from './trim-range.js';

const thumb = (range: LiveTrimRange, which: 'start' | 'end') => range.shadowRoot!.querySelector<HTMLElement>(`[data-thumb="${which}"]`)!;
const text = (range: LiveTrimRange, part: string) => range.shadowRoot!.querySelector(`[part="${part}"]`)!.textContent!.replace(/\s+/g, ' ').trim();

async function press(key: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await sendKeys({ press: key });
}

describe('<live-trim-range>', () => {
  it('is one group with two sliders that say seconds with tenths, and is axe-clean', async () => {
    expect(customElements.get('live-trim-range')).to.equal(LiveTrimRange);
    const range = await fixture<LiveTrimRange>(html`<live-trim-range .duration=${4000} .start=${0} .end=${4000}></live-trim-range>`);
    const group = range.shadowRoot!.querySelector('[role="group"]')!;
    expect(range.shadowRoot!.getElementById(group.getAttribute('aria-labelledby')!)!.textContent).to.equal('Trim');
    const sliders = [...range.shadowRoot!.querySelectorAll('[role="slider"]')];
    expect(sliders.map((slider) => slider.getAttribute('aria-label'))).to.deep.equal(['Start', 'End']);
    expect(thumb(range, 'start').getAttribute('aria-valuetext')).to.equal('0.0 s');
    expect(thumb(range, 'end').getAttribute('aria-valuetext')).to.equal('4.0 s');
    expect([thumb(range, 'start').getAttribute('aria-valuemin'), thumb(range, 'start').getAttribute('aria-valuemax')]).to.deep.equal(['0.0', '3.5']);
    expect([thumb(range, 'end').getAttribute('aria-valuemin'), thumb(range, 'end').getAttribute('aria-valuemax')]).to.deep.equal(['0.5', '4.0']);
    expect(text(range, 'length')).to.equal('4.0 s selected');
    const { violations } = await (await axe()).run(range);
    expect(violations.map((violation) => `${violation.id}: ${violation.help}`)).to.deep.equal([]);
  });

  it('moves with arrows (0.1 s), Page Up/Down (1 s), Home/End, never crossing, and says the length as it goes', async () => {
    const range = await fixture<LiveTrimRange>(html`<live-trim-range .duration=${4000} .start=${0} .end=${4000}></live-trim-range>`);
    const changes: Array<[number, number]> = [];
    range.addEventListener('live-trim-change', ({ detail }) => changes.push([detail.startMs, detail.endMs]));
    thumb(range, 'start').focus();
    await press('ArrowRight', 5);
    await range.updateComplete;
    expect(thumb(range, 'start').getAttribute('aria-valuetext')).to.equal('0.5 s');
    expect(thumb(range, 'start').getAttribute('aria-valuenow')).to.equal('0.5');
    await press('PageUp');
    await range.updateComplete;
    expect(range.start).to.equal(1500);
    await press('End');
    await range.updateComplete;
    expect(range.start, 'End: as far as the other thumb allows').to.equal(3500);
    await press('ArrowLeft');
    thumb(range, 'end').focus();
    await press('Home');
    await range.updateComplete;
    expect(range.end, 'Home: 0.5 s after the start').to.equal(3900);
    expect(text(range, 'length')).to.equal('0.5 s selected');
    await press('PageDown');
    await range.updateComplete;
    expect(range.end, 'cannot cross').to.equal(3900);
    expect(changes.at(-1)).to.deep.equal([3400, 3900]);
  });

  it('speaks the page language, with its decimal comma', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div lang="de"><live-trim-range .duration=${4000} .start=${1500} .end=${4000}></live-trim-range></div>`);
    const range = wrapper.querySelector('live-trim-range')!;
    await range.updateComplete;
    expect(thumb(range, 'start').getAttribute('aria-valuetext')).to.equal('1,5 s');
    expect(thumb(range, 'start').getAttribute('aria-label')).to.equal('Anfang');
    expect(text(range, 'length')).to.equal('2,5 s ausgewählt');
  });

  it('moves the nearer thumb to where the track is pressed, and drags a thumb', async () => {
    const range = await fixture<LiveTrimRange>(html`<live-trim-range style="width: 400px" .duration=${4000} .start=${0} .end=${4000}></live-trim-range>`);
    const track = range.shadowRoot!.querySelector<HTMLElement>('[part="track"]')!.getBoundingClientRect();
    const y = Math.round(track.top + track.height / 2);
    const changed = oneEvent(range, 'live-trim-change');
    await sendMouse({ type: 'click', position: [Math.round(track.left + track.width * 0.75), y] });
    await changed;
    expect(range.end).to.be.closeTo(3000, 100);
    expect(range.start).to.equal(0);
    expect(range.shadowRoot!.activeElement).to.equal(thumb(range, 'end'));
    const start = thumb(range, 'start').getBoundingClientRect();
    await sendMouse({ type: 'move', position: [Math.round(start.left + start.width / 2), y] });
    await sendMouse({ type: 'down' });
    await sendMouse({ type: 'move', position: [Math.round(track.left + track.width * 0.25), y] });
    await sendMouse({ type: 'up' });
    await range.updateComplete;
    expect(range.start).to.be.closeTo(1000, 100);
  });

  it('draws a filmstrip of the media under the track', async function () {
    this.timeout(30_000);
    const blob = await (await fetch('/__fixture/4s-360p.mp4')).blob();
    const url = URL.createObjectURL(blob);
    const range = await fixture<LiveTrimRange>(html`<live-trim-range .duration=${4000} .start=${0} .end=${4000} src=${url}></live-trim-range>`);
    const canvases = [...range.shadowRoot!.querySelectorAll('canvas')];
    expect(canvases.length).to.equal(8);
    const drawn = (canvas: HTMLCanvasElement) => canvas.width === 160 && canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data.some((value, i) => i % 4 !== 3 && value > 0);
    await waitUntil(() => canvases.every(drawn), 'every frame drawn', { timeout: 20_000, interval: 100 });
    URL.revokeObjectURL(url);
  });

  it('keeps its labels whole at 430 px', async () => {
    const wrapper = await fixture<HTMLDivElement>(html`<div lang="fr" style="width: 430px"><live-trim-range .duration=${123_400} .start=${61_200} .end=${123_400}></live-trim-range></div>`);
    const range = wrapper.querySelector('live-trim-range')!;
    await range.updateComplete;
    const times = range.shadowRoot!.querySelector<HTMLElement>('[part="times"]')!;
    expect(times.scrollWidth, 'nothing overflows').to.be.at.most(times.clientWidth);
    for (const span of times.querySelectorAll('span')) expect(span.getBoundingClientRect().right).to.be.at.most(times.getBoundingClientRect().right + 0.5);
    expect(text(range, 'length')).to.equal('62,2 s sélectionnées');
  });
});
