// Renders the sample mini-program's real pages in Node: each page's WXML through WeChat's own
// miniprogram-simulate (j-component over jsdom), bound to the page's real `Page({...})` definition.
// Taps and inputs are dispatched on rendered elements, so a misspelt handler, a missing data key or an
// element the page forgot to show fails a test. The page's `wx` is the phone's wx adapter (the local
// stack) plus the UI calls a page makes (navigation, modals, toasts), which are recorded.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BusinessViewParam, WxPort } from '../../../miniprogram/miniprogram/lib/wx-port';

export const MINIPROGRAM_ROOT = resolve(__dirname, '../../../miniprogram/miniprogram');

type Dict = Record<string, unknown>;
interface Document {
  createElement(tag: string): unknown;
}
type PageMethod = (this: PageInstance, ...args: unknown[]) => unknown;

/** What `this` is inside a page method: data, setData and the page's own fields and methods. */
export interface PageInstance {
  data: Dict;
  setData(patch: Dict): void;
  [key: string]: unknown;
}

/** The slice of a DOM element the tests read (the root tsconfig has no DOM library). */
export interface DomElement {
  textContent: string | null;
  innerHTML: string;
}

/** The element wrapper j-component returns from querySelector. */
export interface RenderedNode {
  dom: DomElement;
  dispatchEvent(name: string, options?: { detail?: unknown }): void;
}

interface RenderedComponent {
  dom: DomElement;
  instance: PageInstance;
  attach(parent: unknown): void;
  detach(): void;
  querySelector(selector: string): RenderedNode | undefined;
  querySelectorAll(selector: string): RenderedNode[];
}

interface Simulate {
  load(definition: { template: string; data: Dict; methods: Record<string, PageMethod> }): string;
  render(id: string): RenderedComponent;
}

let simulate: Simulate | undefined;

/** miniprogram-simulate expects a browser: give it jsdom's window once per process. */
function loadSimulate(): Simulate {
  if (simulate) return simulate;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- jsdom ships no types; two members are used
  const { JSDOM } = require('jsdom') as {
    JSDOM: new (html: string, options: object) => { window: Dict & { document: Document } };
  };
  const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
  const g = globalThis as Dict;
  g.window = dom.window;
  g.document = dom.window.document;
  // j-component builds events with the globals: they must be jsdom's (Node has its own CustomEvent).
  for (const name of ['Event', 'CustomEvent', 'HTMLElement', 'Node', 'MouseEvent', 'TouchEvent', 'Touch']) {
    g[name] = (dom.window as unknown as Dict)[name];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- it reads the DOM globals at load
  simulate = require('miniprogram-simulate') as Simulate;
  return simulate;
}

/** The UI calls pages make besides the wx port, recorded for assertions. */
export interface UiLog {
  navigations: { kind: 'navigateTo' | 'redirectTo' | 'navigateBack'; url?: string }[];
  modals: { title: string; content: string }[];
  toasts: string[];
  /** What the next wx.showModal answers (the user taps OK by default). */
  confirmModals: boolean;
  /** wx.openBusinessView calls (then handed to the phone's port). */
  businessViews: BusinessViewParam[];
}

export type PageWx = WxPort & Dict;

/** The phone's wx port plus the UI APIs pages call, which are recorded in `ui`. */
export function pageWx(port: WxPort, ui: UiLog): PageWx {
  return {
    ...port,
    navigateTo: ({ url }: { url: string }) => void ui.navigations.push({ kind: 'navigateTo', url }),
    redirectTo: ({ url }: { url: string }) => void ui.navigations.push({ kind: 'redirectTo', url }),
    navigateBack: () => void ui.navigations.push({ kind: 'navigateBack' }),
    stopPullDownRefresh: () => undefined,
    showToast: ({ title }: { title: string }) => void ui.toasts.push(title),
    openBusinessView: (param: BusinessViewParam) => {
      ui.businessViews.push(param);
      return port.openBusinessView(param);
    },
    showModal: async ({ title, content }: { title: string; content: string }) => {
      ui.modals.push({ title, content });
      return { confirm: ui.confirmModals, cancel: !ui.confirmModals };
    },
  };
}

export function newUiLog(): UiLog {
  return { navigations: [], modals: [], toasts: [], confirmModals: true, businessViews: [] };
}

export interface OpenPage {
  instance: PageInstance;
  /** The page's `Page({...})` definition as written. */
  definition: Dict;
  $(selector: string): RenderedNode;
  $$(selector: string): RenderedNode[];
  /** The text of an element, whitespace collapsed. */
  text(selector?: string): string;
  exists(selector: string): boolean;
  tap(selector: string): Promise<void>;
  input(selector: string, value: string): Promise<void>;
  /** Waits for every promise a page method returned (handlers, lifecycle) to settle. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function pageFiles(name: string): { ts: string; wxml: string } {
  const dir = join(MINIPROGRAM_ROOT, 'pages', name);
  return { ts: join(dir, `${name}.ts`), wxml: join(dir, `${name}.wxml`) };
}

/** Loads the page module with the globals the mini-program runtime gives it and returns its definition. */
export function loadPageDefinition(name: string, app: unknown, wx: PageWx): Dict {
  const g = globalThis as Dict;
  let definition: Dict | undefined;
  g.Page = (d: Dict) => {
    definition = d;
  };
  g.getApp = () => app;
  g.wx = wx;
  const file = pageFiles(name).ts;
  // A page reads getApp() at module load: load it fresh for every page opened.
  delete require.cache[require.resolve(file)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a page module registers itself through the Page() global
  require(file);
  if (!definition) throw new Error(`pages/${name} did not call Page()`);
  return definition;
}

/** Opens a page as the runtime does: render its WXML with its data, then onLoad(query) and onShow(). */
export async function openPage(
  name: string,
  options: { app: unknown; wx: PageWx; query?: Record<string, string> },
): Promise<OpenPage> {
  const sim = loadSimulate();
  const definition = loadPageDefinition(name, options.app, options.wx);
  const pending = new Set<Promise<unknown>>();
  const methods: Record<string, PageMethod> = {};
  const fields: Dict = {};
  for (const [key, value] of Object.entries(definition)) {
    if (key === 'data') continue;
    if (typeof value === 'function') {
      const method = value as PageMethod;
      methods[key] = function (this: PageInstance, ...args: unknown[]) {
        const result = method.apply(this, args);
        if (result instanceof Promise) {
          const tracked = result.finally(() => pending.delete(tracked));
          pending.add(tracked);
        }
        return result;
      };
    } else fields[key] = structuredClone(value);
  }
  const id = sim.load({
    template: readFileSync(pageFiles(name).wxml, 'utf8'),
    data: structuredClone(definition.data as Dict),
    methods,
  });
  const component = sim.render(id);
  component.attach(
    (globalThis as unknown as { document: Document }).document.createElement('parent-wrapper'),
  );
  Object.assign(component.instance, fields);

  const settle = async () => {
    // j-component dispatches events in a microtask: let the handler start before waiting for it
    await new Promise((r) => setImmediate(r));
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  const call = async (method: string, ...args: unknown[]) => {
    const fn = component.instance[method];
    if (typeof fn === 'function') await (fn as PageMethod).apply(component.instance, args);
    await settle();
  };
  const $ = (selector: string) => {
    const node = component.querySelector(selector);
    if (!node) throw new Error(`pages/${name}: nothing matches ${selector} in\n${component.dom.innerHTML}`);
    return node;
  };

  await call('onLoad', options.query ?? {});
  await call('onShow');
  return {
    instance: component.instance,
    definition,
    $,
    $$: (selector) => component.querySelectorAll(selector),
    text: (selector) =>
      (selector ? $(selector).dom : component.dom).textContent?.replace(/\s+/g, ' ').trim() ?? '',
    exists: (selector) => component.querySelector(selector) !== undefined,
    async tap(selector) {
      $(selector).dispatchEvent('tap');
      await settle();
    },
    async input(selector, value) {
      $(selector).dispatchEvent('input', { detail: { value } });
      await settle();
    },
    settle,
    async close() {
      await call('onUnload');
      component.detach();
    },
  };
}

const WXML_EVENT = /\b(?:bind|catch|capture-bind|capture-catch|mut-bind):?([a-z]+)="([^"]*)"/g;

/** Every event handler a page's WXML names, e.g. `bindtap="onPay"` → `onPay`. */
export function wxmlHandlers(wxml: string): string[] {
  return [...wxml.matchAll(WXML_EVENT)].map((m) => m[2]).filter((h) => h && !h.includes('{{'));
}

const KEYWORDS = new Set(['true', 'false', 'null', 'undefined', 'item', 'index', 'length']);

/**
 * The top-level data keys a page's WXML reads in `{{ }}` (identifiers not after a dot, outside string
 * literals), excluding the loop variables `item` and `index`.
 */
export function wxmlDataKeys(wxml: string): string[] {
  const keys = new Set<string>();
  for (const [, expr] of wxml.matchAll(/\{\{([\s\S]*?)\}\}/g)) {
    const code = expr.replace(/'[^']*'|"[^"]*"/g, '""');
    for (const m of code.matchAll(/(^|[^.\w$])([A-Za-z_$][\w$]*)/g)) {
      if (!KEYWORDS.has(m[2])) keys.add(m[2]);
    }
  }
  return [...keys];
}
