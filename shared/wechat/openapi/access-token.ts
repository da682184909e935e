// One access_token for all instances (https mode): memory first, then the shared database copy,
// refreshed before it expires by whichever instance wins the lease; the others use the still-valid
// token or wait briefly for the winner. A token WeChat rejects (40001/42001) is replaced once.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { unavailable } from './errors';
import type { FetchStableToken } from './stable-token';
import type { TokenStore } from './token-store';

/** Refresh this long before expiry, so no call goes out with a token about to lapse. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** How long a lease holder may take to fetch and save (longer than the fetch timeout). */
export const LEASE_MS = 10_000;
const WAIT_STEP_MS = 50;

export interface AccessTokenSource {
  /** A token valid for at least REFRESH_MARGIN_MS, or (`rejected`) any token but that one. */
  get(rejected?: string): Promise<string>;
}

export function accessTokenSource(opts: {
  appid: string;
  store: TokenStore;
  fetch: FetchStableToken;
  now?: () => number;
  /** Give up waiting for another instance's refresh after this long. */
  waitMs?: number;
}): AccessTokenSource {
  const now = opts.now ?? Date.now;
  const owner = randomBytes(9).toString('base64url');
  let memory: { token: string; refreshAtMs: number } | undefined;

  // A doc written before refreshAtMs existed refreshes REFRESH_MARGIN_MS before expiry.
  const refreshAt = (doc: { expiresAtMs?: number; refreshAtMs?: number }) =>
    doc.refreshAtMs ?? (doc.expiresAtMs ?? 0) - REFRESH_MARGIN_MS;
  const fresh = (token: string | undefined, refreshAtMs: number, rejected?: string) =>
    !!token && token !== rejected && now() < refreshAtMs;

  async function refresh(rejected: string | undefined, current: string | undefined): Promise<string> {
    try {
      // Normal mode first: WeChat hands back its current token, which is already new if someone
      // else refreshed. Only if that is the very token WeChat refused do we force a new one.
      let got = await opts.fetch(false);
      if (rejected !== undefined && got.accessToken === rejected) got = await opts.fetch(true);
      const lifetimeMs = got.expiresInS * 1000;
      // WeChat may hand back its current token with little time left (normal mode): refresh it at
      // half its remaining life then, instead of on every call until it expires.
      const refreshAtMs = now() + Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs / 2);
      await opts.store.saveToken(opts.appid, owner, {
        accessToken: got.accessToken,
        expiresAtMs: now() + lifetimeMs,
        refreshAtMs,
      });
      memory = { token: got.accessToken, refreshAtMs };
      return got.accessToken;
    } catch (err) {
      await opts.store.releaseLease(opts.appid, owner).catch(() => undefined);
      // A refresh that failed while the old token still works need not fail the call.
      if (current && current !== rejected) return current;
      throw err;
    }
  }

  return {
    async get(rejected) {
      if (memory && fresh(memory.token, memory.refreshAtMs, rejected)) return memory.token;
      const deadline = now() + (opts.waitMs ?? 8_000);
      for (;;) {
        const doc = await opts.store.read(opts.appid);
        if (doc && fresh(doc.accessToken, refreshAt(doc), rejected)) {
          memory = { token: doc.accessToken!, refreshAtMs: refreshAt(doc) };
          return doc.accessToken!;
        }
        const usable =
          doc?.accessToken && doc.accessToken !== rejected && (doc.expiresAtMs ?? 0) > now()
            ? doc.accessToken
            : undefined;
        const leased = doc?.leaseOwner && (doc.leaseUntilMs ?? 0) > now();
        if (!leased && (await opts.store.takeLease(opts.appid, doc?.version, owner, now() + LEASE_MS)))
          return refresh(rejected, usable);
        // Someone else is refreshing: an unexpired token still serves; otherwise wait for theirs.
        if (usable) return usable;
        if (now() > deadline) throw unavailable('access_token', 'another instance is still refreshing it');
        await sleep(WAIT_STEP_MS + Math.floor(Math.random() * WAIT_STEP_MS));
      }
    },
  };
}
