// The product is defined in docs/, and code comments cite its pages by file and heading
// (`docs/data-model.md#conditional-updates`). This test keeps those citations true: every cited page
// exists, every cited heading exists as GitHub renders its anchor, every relative link in a markdown
// file resolves, and nothing cites the numbered sections of the old specification that lived outside
// the repository.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(__dirname, '..');
const SKIP_DIRS = new Set(['node_modules', 'build', '.local', '.git', '.tmp']);
const TEXT_FILE = /\.(ts|cjs|mjs|js|md|json|html|css|wxml|wxss)$/;
// Built in two pieces so that this file does not match its own search.
const OLD_CITATION = new RegExp(['SPEC', ' §'].join(''));

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of a markdown text, with GitHub's `-1`, `-2` suffixes for repeated headings. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = headingAnchor(m[1]);
    const n = seen.get(base) ?? 0;
    anchors.add(n === 0 ? base : `${base}-${n}`);
    seen.set(base, n + 1);
  }
  return anchors;
}

function repositoryFiles(dir = root, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) repositoryFiles(full, out);
    else if (TEXT_FILE.test(entry) && entry !== 'package-lock.json') out.push(full);
  }
  return out;
}

interface Citation {
  from: string;
  line: number;
  target: string;
  anchor?: string;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** `docs/<page>.md#anchor` anywhere, and relative links `](path#anchor)` in markdown files. */
function citationsOf(file: string, text: string): Citation[] {
  const out: Citation[] = [];
  const from = relative(root, file);
  for (const m of text.matchAll(/(?<![\w./-])docs\/([\w-]+\.md)(?:#([\w-]+))?/g)) {
    const c: Citation = { from, line: lineOf(text, m.index), target: join(root, 'docs', m[1]) };
    if (m[2]) c.anchor = m[2];
    out.push(c);
  }
  if (file.endsWith('.md')) {
    for (const m of text.matchAll(/\]\(([^)\s#]*)(?:#([^)\s]+))?\)/g)) {
      if (/^[a-z]+:/i.test(m[1])) continue; // https:, mailto:
      const c: Citation = {
        from,
        line: lineOf(text, m.index),
        target: m[1] === '' ? file : normalize(join(dirname(file), m[1])),
      };
      if (m[2]) c.anchor = m[2];
      out.push(c);
    }
  }
  return out;
}

describe('docs citations', () => {
  const files = repositoryFiles();
  const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));

  it('headingAnchor follows GitHub', () => {
    assert.equal(headingAnchor('Conditional updates'), 'conditional-updates');
    assert.equal(headingAnchor("Verifying WeChat Pay's signatures"), 'verifying-wechat-pays-signatures');
    assert.equal(headingAnchor('cloudbaserc.json'), 'cloudbasercjson');
    assert.equal(headingAnchor('`login` and [tokens](x.md)'), 'login-and-tokens');
    assert.deepEqual([...anchorsOf('# A\n## B\n```\n# not a heading\n```\n## B\n')], ['a', 'b', 'b-1']);
  });

  it('the docs folder has its index and the pages the code cites', () => {
    for (const page of ['README.md', 'product.md', 'data-model.md', 'configuration.md', 'local-stack.md'])
      assert.ok(existsSync(join(root, 'docs', page)), `docs/${page} is missing`);
    assert.match(texts.get(join(root, 'README.md')) ?? '', /\]\(docs\/README\.md\)/);
  });

  it('every cited page and heading exists', () => {
    const citations = [...texts].flatMap(([file, text]) => citationsOf(file, text));
    assert.ok(citations.length > 50, `found only ${citations.length} citations; is the scan broken?`);
    const anchors = new Map<string, Set<string>>();
    const broken: string[] = [];
    for (const c of citations) {
      const where = `${c.from}:${c.line} → ${relative(root, c.target)}${c.anchor ? `#${c.anchor}` : ''}`;
      if (!existsSync(c.target)) {
        broken.push(`${where}: no such file`);
        continue;
      }
      if (!c.anchor || !c.target.endsWith('.md')) continue;
      let known = anchors.get(c.target);
      if (!known) {
        known = anchorsOf(readFileSync(c.target, 'utf8'));
        anchors.set(c.target, known);
      }
      if (!known.has(c.anchor)) broken.push(`${where}: no such heading`);
    }
    assert.deepEqual(broken, [], `fix these citations (or the heading they name):\n${broken.join('\n')}`);
  });

  it('nothing cites the old specification outside the repository', () => {
    const old = [...texts]
      .filter(([, text]) => OLD_CITATION.test(text))
      .map(([file]) => relative(root, file));
    assert.deepEqual(old, [], 'cite a docs/ page and heading instead, e.g. docs/data-model.md#refunds');
  });
});
