// The v2 wire format: a flat `<xml>` of string fields. Building is done here (CDATA for strings, bare
// numbers, as WeChat's own examples); parsing goes through xml2js, which is loaded lazily so that
// v3-only functions never pay for it at cold start. DOCTYPE/ENTITY are refused outright (XXE), the
// size is capped, and only flat, unique, attribute-free fields come out.
import type { V2Fields } from './sign';
import { WxpayV2XmlError } from './errors';

/** WeChat's v2 messages are a few KB; 64 KiB leaves room for coupon lists and refuses floods. */
export const V2_XML_MAX_BYTES = 64 * 1024;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function cdata(text: string): string {
  return `<![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

export function buildV2Xml(fields: V2Fields, root = 'xml'): string {
  let out = `<${root}>`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null) continue;
    if (!NAME.test(k)) throw new TypeError(`buildV2Xml: "${k}" is not a valid field name`);
    out += typeof v === 'number' ? `<${k}>${v}</${k}>` : `<${k}>${cdata(v)}</${k}>`;
  }
  return `${out}</${root}>`;
}

type Xml2js = typeof import('xml2js');
let xml2js: Xml2js | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- v2 only: xml2js loads on the first v2 call, not at cold start
const loadXml2js = (): Xml2js => (xml2js ??= require('xml2js') as Xml2js);

export interface ParseV2XmlOptions {
  maxBytes?: number;
  /** The expected root element: `xml` for messages, `root` for a decrypted refund req_info. */
  root?: string;
}

export function parseV2Xml(body: string | Buffer, options: ParseV2XmlOptions = {}): Record<string, string> {
  const maxBytes = options.maxBytes ?? V2_XML_MAX_BYTES;
  const root = options.root ?? 'xml';
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (size === 0) throw new WxpayV2XmlError('empty', 'the XML body is empty');
  if (size > maxBytes)
    throw new WxpayV2XmlError(
      'too-large',
      `the XML body is ${size} bytes, more than the ${maxBytes} accepted`,
    );
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new WxpayV2XmlError(
      'doctype',
      'DOCTYPE and ENTITY declarations are refused (XXE); WeChat Pay never sends them',
    );

  const { Parser } = loadXml2js();
  const parser = new Parser({
    async: false,
    explicitArray: true,
    explicitRoot: true,
    strict: true,
    trim: false,
    normalize: false,
    emptyTag: '',
  });
  let parsed: unknown;
  let failed = false;
  let done = false;
  parser.parseString(text, (err: Error | null, result: unknown) => {
    // xml2js may call back twice on some errors; a failure must stick.
    done = true;
    failed ||= err !== null;
    if (err === null) parsed = result;
  });
  // With async:false xml2js answers synchronously; anything else is a contract break we refuse.
  if (!done || failed || parsed === null || typeof parsed !== 'object')
    throw new WxpayV2XmlError('malformed', 'the body is not well-formed XML');

  const top = parsed as Record<string, unknown>;
  const names = Object.keys(top);
  if (names.length !== 1 || names[0] !== root)
    throw new WxpayV2XmlError('wrong-root', `the XML root must be <${root}>`);
  // xml2js stops at the first root's end and would ignore whatever follows it.
  if (!text.trimEnd().endsWith(`</${root}>`))
    throw new WxpayV2XmlError('malformed', `the body must end with </${root}>`);
  const content = top[root];
  if (content === undefined || (typeof content === 'string' && content.trim() === '')) return {};
  if (typeof content !== 'object' || content === null)
    throw new WxpayV2XmlError('not-flat', `<${root}> must contain fields, not text`);

  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(content as Record<string, unknown>)) {
    if (k === '$') throw new WxpayV2XmlError('not-flat', `<${root}> must not have attributes`);
    if (k === '_') continue; // stray text between fields
    if (!Array.isArray(v)) throw new WxpayV2XmlError('not-flat', `field ${k} is malformed`);
    if (v.length !== 1) throw new WxpayV2XmlError('duplicate-field', `field ${k} appears ${v.length} times`);
    if (typeof v[0] !== 'string')
      throw new WxpayV2XmlError('not-flat', `field ${k} must be text (no nested elements or attributes)`);
    fields[k] = v[0];
  }
  return fields;
}
