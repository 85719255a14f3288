/** Attribute values and text are set through DOM APIs only: whatever they contain stays text. */
export interface ElementOptions {
  readonly className?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** Set as `textContent`. */
  readonly text?: string;
}

/**
 * `document.createElement` plus attributes, class, text and children. Children that are
 * strings become text nodes, so titles and file names from the network can never become markup.
 */
export function createElement<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  ...children: ReadonlyArray<Node | string>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.className) element.className = options.className;
  for (const [name, value] of Object.entries(options.attributes ?? {})) element.setAttribute(name, value);
  if (options.text !== undefined) element.textContent = options.text;
  element.append(...children);
  return element;
}
