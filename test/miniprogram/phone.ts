// Shared setup of the mini-program flow tests: one local stack per test file, and "phones" — a fresh
// simulator user with its own wx adapter and the mini-program's services on it.
import assert from 'node:assert/strict';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { type Services, createServices } from '../../miniprogram/miniprogram/lib/services';
import { add, emptyCart, toCartItems } from '../../miniprogram/miniprogram/logic/cart';
import { type Product, loadCatalog } from '../../miniprogram/miniprogram/logic/catalog';
import { CheckoutFlow, type ConfirmPolicy } from '../../miniprogram/miniprogram/logic/checkout';
import { type E2E, startE2E } from '../support/e2e';
import { type WxAdapter, createWxAdapter } from './wx-adapter';

export interface Phone {
  openid: string;
  appid: string;
  adapter: WxAdapter;
  services: Services;
}

export interface MiniprogramStack {
  e2e: E2E;
  catalog: Product[];
  sim(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<any>;
  /** A new phone; with `user`, a new phone of an existing user (empty storage). */
  newPhone(user?: { openid: string; appid: string }): Promise<Phone>;
  close(): Promise<void>;
}

export async function startMiniprogramStack(): Promise<MiniprogramStack> {
  // Refunds settle 2 s of WeChat time after the request; the simulator runs 100× faster.
  const e2e = await startE2E({ simulator: { timeScale: 100, refundDelayMs: 2000 } });
  try {
    const catalog = await loadCatalog(openLocalDatabase(e2e.emuUrl));
    assert.ok(catalog.length >= 2, 'the seeded catalog has products');
    return {
      e2e,
      catalog,
      sim: (method, path, body) => e2e.sim(method, path, body),
      async newPhone(existing) {
        const user = existing ?? (await e2e.newUser());
        const adapter = createWxAdapter({
          hostUrl: e2e.hostUrl,
          simUrl: e2e.simUrl,
          openid: user.openid,
          appid: user.appid,
          database: () => openLocalDatabase(e2e.emuUrl),
        });
        // Real backoff shape, shorter base: the retries still happen, the test does not wait seconds.
        const services = createServices(adapter.wx, {
          client: { retry: { baseDelayMs: 20, maxDelayMs: 100 } },
        });
        return { openid: user.openid, appid: user.appid, adapter, services };
      },
      close: () => e2e.close(),
    };
  } catch (error) {
    await e2e.close();
    throw error;
  }
}

export function checkout(
  phone: Phone,
  products: Product[],
  confirm: ConfirmPolicy = { attempts: 10, intervalMs: 150 },
): CheckoutFlow {
  let cart = emptyCart();
  for (const p of products) cart = add(cart, p);
  return new CheckoutFlow(toCartItems(cart), {
    wx: phone.adapter.wx,
    api: phone.services.api,
    auth: phone.services.auth,
    confirm,
  });
}

/** Polls `check` every 100 ms until it returns a value, at most `ms`. */
export async function eventually<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
