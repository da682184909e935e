// v2's wire format: one flat <xml> element of text children. A tiny codec of our own (no entity
// expansion, no DOCTYPE) so the simulator shares nothing with the library's XML handling.

export type FlatXml = Record<string, string>;

export class XmlFormatError extends Error {}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name];
  });
}

/** Parses `<root><k>v</k>…</root>` (values plain or CDATA). Anything else is a format error. */
export function parseFlatXml(input: string): FlatXml {
  const text = input.trim().replace(/^<\?xml[^>]*\?>\s*/, '');
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new XmlFormatError('DOCTYPE and entity declarations are not accepted');
  const root = /^<([A-Za-z_][\w]*)>([\s\S]*)<\/\1>$/.exec(text);
  if (!root) throw new XmlFormatError('expected a single root element');
  const inner = root[2];
  const out: FlatXml = {};
  const child = /\s*<([A-Za-z_][\w]*)>((?:<!\[CDATA\[[\s\S]*?\]\]>)+)?([^<]*)<\/\1>\s*/y;
  let pos = 0;
  while (pos < inner.length) {
    child.lastIndex = pos;
    const m = child.exec(inner);
    if (!m) {
      if (inner.slice(pos).trim() === '') break;
      throw new XmlFormatError(`unexpected content at offset ${pos}`);
    }
    if (m[2] !== undefined && m[3].trim() !== '')
      throw new XmlFormatError(`mixed CDATA and text in <${m[1]}>`);
    out[m[1]] = m[2] !== undefined ? m[2].replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1') : decodeEntities(m[3]);
    pos = child.lastIndex;
  }
  return out;
}

/** Builds `<root>` with CDATA for text values and bare numbers, as WeChat writes it. */
export function buildFlatXml(fields: Record<string, string | number | undefined>, root = 'xml'): string {
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      typeof v === 'number'
        ? `<${k}>${v}</${k}>`
        : `<${k}><![CDATA[${String(v).replace(/]]>/g, ']]]]><![CDATA[>')}]]></${k}>`,
    );
  return `<${root}>${parts.join('')}</${root}>`;
}
