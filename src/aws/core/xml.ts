/**
 * The little XML the AWS protocols need: escaping text for responses, and a
 * strict, small parser for request bodies (rest-xml inputs such as Route 53
 * ChangeResourceRecordSets). No DTDs, no namespaces beyond ignoring prefixes.
 */

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\r': '&#13;' };

/** xmlEscape escapes text content and double-quoted attribute values (&, <, >, ", and CR so it survives parsing). */
export function xmlEscape(s: string): string {
  return /[&<>"\r]/.test(s) ? s.replace(/[&<>"\r]/g, (c) => ESC[c]!) : s;
}

/** A parsed element: name without namespace prefix, children in order, and text content. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

/** parseXml parses a document and returns its root element; throws Error on malformed input. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const n = src.length;
  const fail = (what: string): never => {
    throw new Error(`malformed XML at offset ${i}: ${what}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (i < n && /\s/.test(src[i]!)) i++;
      if (src.startsWith('<?', i)) {
        const e = src.indexOf('?>', i);
        if (e < 0) fail('unterminated declaration');
        i = e + 2;
      } else if (src.startsWith('<!--', i)) {
        const e = src.indexOf('-->', i);
        if (e < 0) fail('unterminated comment');
        i = e + 3;
      } else if (src.startsWith('<!', i)) {
        fail('DTDs are not supported');
      } else return;
    }
  };
  const localName = (q: string) => q.slice(q.indexOf(':') + 1);
  const element = (): XmlElement => {
    if (src[i] !== '<') fail('expected <');
    i++;
    const m = /^[A-Za-z_][\w.:-]*/.exec(src.slice(i, i + 256));
    if (!m) fail('expected element name');
    const qname = m![0];
    i += qname.length;
    // attributes (ignored, but must be well-formed)
    for (;;) {
      while (i < n && /\s/.test(src[i]!)) i++;
      if (src[i] === '/' && src[i + 1] === '>') {
        i += 2;
        return { name: localName(qname), children: [], text: '' };
      }
      if (src[i] === '>') {
        i++;
        break;
      }
      const a = /^[A-Za-z_][\w.:-]*\s*=\s*("[^"]*"|'[^']*')/.exec(src.slice(i));
      if (!a) fail('bad attribute');
      i += a![0].length;
    }
    const el: XmlElement = { name: localName(qname), children: [], text: '' };
    let text = '';
    for (;;) {
      if (i >= n) fail(`unterminated element ${qname}`);
      if (src.startsWith('</', i)) {
        const e = src.indexOf('>', i);
        if (e < 0 || src.slice(i + 2, e).trim() !== qname) fail(`mismatched end tag for ${qname}`);
        i = e + 1;
        el.text = text;
        return el;
      }
      if (src.startsWith('<![CDATA[', i)) {
        const e = src.indexOf(']]>', i);
        if (e < 0) fail('unterminated CDATA');
        text += src.slice(i + 9, e);
        i = e + 3;
      } else if (src.startsWith('<!--', i)) {
        const e = src.indexOf('-->', i);
        if (e < 0) fail('unterminated comment');
        i = e + 3;
      } else if (src[i] === '<') {
        el.children.push(element());
      } else {
        const e = src.indexOf('<', i);
        const end = e < 0 ? n : e;
        text += decodeEntities(src.slice(i, end));
        i = end;
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i < n) fail('content after the root element');
  return root;
}
