/**
 * A deliberately small XML reader for the feeds a WebSub hub relays: elements, attributes,
 * text, CDATA, comments and namespaces, nothing else. It never expands entities beyond the
 * five predefined ones and character references, refuses any DOCTYPE (so no XXE, no
 * "billion laughs"), and bounds depth and element count. Linear in the input length.
 */

export interface XmlAttribute {
  /** Namespace URI; '' for unprefixed attributes (they are in no namespace). */
  readonly ns: string;
  readonly local: string;
  readonly value: string;
}

export interface XmlElement {
  /** Namespace URI; '' when the element is in no namespace. */
  readonly ns: string;
  readonly local: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** The element's own text (CDATA included), children's text excluded. */
  readonly text: string;
}

export interface SafeXmlLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxAttributes: number;
}

export const DEFAULT_SAFE_XML_LIMITS: SafeXmlLimits = { maxDepth: 32, maxElements: 5000, maxAttributes: 32 };

/** The document is not XML this reader accepts; `message` says why (never echoes input). */
export class SafeXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafeXmlError';
  }
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const NAME = /[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?/y;
const SPACE = /[ \t\r\n]*/y;
const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

interface OpenElement {
  readonly qname: string;
  readonly ns: string;
  readonly local: string;
  readonly attributes: XmlAttribute[];
  readonly children: XmlElement[];
  text: string;
  readonly scope: ReadonlyMap<string, string>;
}

/** Parses a whole document into its root element. Throws `SafeXmlError`. */
export function parseSafeXml(source: string, limits: SafeXmlLimits = DEFAULT_SAFE_XML_LIMITS): XmlElement {
  let position = 0;
  let elementCount = 0;
  let root: XmlElement | undefined;
  const stack: OpenElement[] = [];
  const rootScope = new Map<string, string>([['xml', XML_NAMESPACE]]);

  // A byte order mark may precede the declaration.
  if (source.charCodeAt(0) === 0xfeff) position = 1;

  while (position < source.length) {
    const lt = source.indexOf('<', position);
    const textEnd = lt === -1 ? source.length : lt;
    if (textEnd > position) {
      const text = source.slice(position, textEnd);
      const top = stack.at(-1);
      if (top) top.text += decodeText(text);
      else if (/[^ \t\r\n]/.test(text)) throw new SafeXmlError('text outside the root element');
      position = textEnd;
      continue;
    }
    if (source.startsWith('<!--', position)) {
      const end = source.indexOf('-->', position + 4);
      if (end === -1) throw new SafeXmlError('unterminated comment');
      position = end + 3;
    } else if (source.startsWith('<![CDATA[', position)) {
      const top = stack.at(-1);
      if (!top) throw new SafeXmlError('CDATA outside the root element');
      const end = source.indexOf(']]>', position + 9);
      if (end === -1) throw new SafeXmlError('unterminated CDATA section');
      top.text += source.slice(position + 9, end);
      position = end + 3;
    } else if (source.startsWith('<!', position)) {
      // DOCTYPE, ENTITY, ELEMENT, ATTLIST...: declarations are where entity expansion and
      // external entities come from. A feed never needs one.
      throw new SafeXmlError('document type declarations are not allowed');
    } else if (source.startsWith('<?', position)) {
      const end = source.indexOf('?>', position + 2);
      if (end === -1) throw new SafeXmlError('unterminated processing instruction');
      position = end + 2;
    } else if (source.startsWith('</', position)) {
      const { name, next } = readName(source, position + 2);
      position = skipSpace(source, next);
      if (source[position] !== '>') throw new SafeXmlError('malformed end tag');
      position += 1;
      const open = stack.pop();
      if (!open || open.qname !== name) throw new SafeXmlError('mismatched end tag');
      const element: XmlElement = { ns: open.ns, local: open.local, attributes: open.attributes, children: open.children, text: open.text };
      const parent = stack.at(-1);
      if (parent) parent.children.push(element);
      else root = element;
    } else {
      if (root) throw new SafeXmlError('content after the root element');
      if (stack.length >= limits.maxDepth) throw new SafeXmlError(`elements nested deeper than ${limits.maxDepth}`);
      if (++elementCount > limits.maxElements) throw new SafeXmlError(`more than ${limits.maxElements} elements`);
      const { name, next } = readName(source, position + 1);
      position = next;
      const rawAttributes: { name: string; value: string }[] = [];
      let selfClosing = false;
      for (;;) {
        const afterSpace = skipSpace(source, position);
        const char = source[afterSpace];
        if (char === '>') {
          position = afterSpace + 1;
          break;
        }
        if (char === '/' && source[afterSpace + 1] === '>') {
          position = afterSpace + 2;
          selfClosing = true;
          break;
        }
        if (afterSpace === position) throw new SafeXmlError('malformed start tag');
        const attribute = readName(source, afterSpace);
        let cursor = skipSpace(source, attribute.next);
        if (source[cursor] !== '=') throw new SafeXmlError('attribute without a value');
        cursor = skipSpace(source, cursor + 1);
        const quote = source[cursor];
        if (quote !== '"' && quote !== "'") throw new SafeXmlError('unquoted attribute value');
        const close = source.indexOf(quote, cursor + 1);
        if (close === -1) throw new SafeXmlError('unterminated attribute value');
        const rawValue = source.slice(cursor + 1, close);
        if (rawValue.includes('<')) throw new SafeXmlError('"<" in an attribute value');
        if (rawAttributes.some((existing) => existing.name === attribute.name)) throw new SafeXmlError('duplicate attribute');
        rawAttributes.push({ name: attribute.name, value: decodeText(rawValue) });
        if (rawAttributes.length > limits.maxAttributes) throw new SafeXmlError(`more than ${limits.maxAttributes} attributes`);
        position = close + 1;
      }

      const parentScope = stack.at(-1)?.scope ?? rootScope;
      const scope = new Map(parentScope);
      for (const { name: attributeName, value } of rawAttributes) {
        if (attributeName === 'xmlns') scope.set('', value);
        else if (attributeName.startsWith('xmlns:')) {
          const prefix = attributeName.slice(6);
          if (prefix === 'xml' || prefix === 'xmlns' || value === '') throw new SafeXmlError('reserved or empty namespace binding');
          scope.set(prefix, value);
        }
      }
      const elementName = resolve(name, scope, true);
      const attributes: XmlAttribute[] = [];
      for (const { name: attributeName, value } of rawAttributes) {
        if (attributeName === 'xmlns' || attributeName.startsWith('xmlns:')) {
          attributes.push({ ns: XMLNS_NAMESPACE, local: attributeName === 'xmlns' ? 'xmlns' : attributeName.slice(6), value });
          continue;
        }
        const resolved = resolve(attributeName, scope, false);
        attributes.push({ ...resolved, value });
      }
      const open: OpenElement = { qname: name, ...elementName, attributes, children: [], text: '', scope };
      if (selfClosing) {
        const element: XmlElement = { ns: open.ns, local: open.local, attributes, children: [], text: '' };
        const parent = stack.at(-1);
        if (parent) parent.children.push(element);
        else root = element;
      } else {
        stack.push(open);
      }
    }
  }
  if (stack.length > 0) throw new SafeXmlError('unclosed element');
  if (!root) throw new SafeXmlError('no root element');
  return root;
}

/** The first child with this namespace and local name. */
export function childElement(element: XmlElement, ns: string, local: string): XmlElement | undefined {
  return element.children.find((child) => child.ns === ns && child.local === local);
}

export function childElements(element: XmlElement, ns: string, local: string): XmlElement[] {
  return element.children.filter((child) => child.ns === ns && child.local === local);
}

/** An unprefixed attribute's value. */
export function attributeValue(element: XmlElement, local: string, ns = ''): string | undefined {
  return element.attributes.find((attribute) => attribute.ns === ns && attribute.local === local)?.value;
}

function readName(source: string, at: number): { name: string; next: number } {
  NAME.lastIndex = at;
  const match = NAME.exec(source);
  if (!match) throw new SafeXmlError('expected a name');
  return { name: match[0], next: at + match[0].length };
}

function skipSpace(source: string, at: number): number {
  SPACE.lastIndex = at;
  SPACE.exec(source);
  return SPACE.lastIndex;
}

function resolve(qname: string, scope: ReadonlyMap<string, string>, isElement: boolean): { ns: string; local: string } {
  const colon = qname.indexOf(':');
  if (colon === -1) return { ns: isElement ? (scope.get('') ?? '') : '', local: qname };
  const prefix = qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined) throw new SafeXmlError('unbound namespace prefix');
  return { ns, local: qname.slice(colon + 1) };
}

/** Replaces the predefined entities and character references; any other entity is an error. */
function decodeText(text: string): string {
  if (!text.includes('&')) return text;
  let out = '';
  let position = 0;
  for (;;) {
    const amp = text.indexOf('&', position);
    if (amp === -1) return out + text.slice(position);
    out += text.slice(position, amp);
    const semicolon = text.indexOf(';', amp);
    if (semicolon === -1 || semicolon - amp > 12) throw new SafeXmlError('malformed entity reference');
    const reference = text.slice(amp + 1, semicolon);
    out += decodeReference(reference);
    position = semicolon + 1;
  }
}

function decodeReference(reference: string): string {
  const predefined = PREDEFINED_ENTITIES[reference];
  if (predefined !== undefined && Object.hasOwn(PREDEFINED_ENTITIES, reference)) return predefined;
  const numeric = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(reference);
  if (!numeric) throw new SafeXmlError('undefined entity');
  const codePoint = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
  const allowed =
    codePoint === 0x9 || codePoint === 0xa || codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) || (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff);
  if (!allowed) throw new SafeXmlError('character reference to a character XML does not allow');
  return String.fromCodePoint(codePoint);
}
