import { noChange, nothing } from 'lit';
import { Directive, directive, PartType, type ElementPart, type PartInfo } from 'lit/directive.js';

/**
 * Sets CSS properties (custom properties included) on an element through the CSSOM, every time,
 * never through a `style` attribute: a page whose CSP has no `'unsafe-inline'` in `style-src`
 * refuses `style="..."` (Lit's `styleMap` writes the attribute on the first render), but not
 * `element.style.setProperty()`. Use as an element binding: `<span ${styleProperties({ '--at': '40%' })}>`.
 */
class StylePropertiesDirective extends Directive {
  #set = new Set<string>();

  constructor(partInfo: PartInfo) {
    super(partInfo);
    if (partInfo.type !== PartType.ELEMENT) throw new Error('styleProperties() is an element binding: <span ${styleProperties({...})}>');
  }

  override render(_properties: Readonly<Record<string, string | undefined>>): typeof nothing {
    return nothing;
  }

  override update(part: ElementPart, [properties]: [Readonly<Record<string, string | undefined>>]): typeof noChange {
    const { style } = part.element as HTMLElement;
    for (const name of this.#set) {
      if (properties[name] === undefined) {
        style.removeProperty(name);
        this.#set.delete(name);
      }
    }
    for (const [name, value] of Object.entries(properties)) {
      if (value === undefined) continue;
      style.setProperty(name, value);
      this.#set.add(name);
    }
    return noChange;
  }
}

export const styleProperties = directive(StylePropertiesDirective);
