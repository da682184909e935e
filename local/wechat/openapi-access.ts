// Who may call WeChat's server APIs (api.weixin.qq.com), and how often they did:
// - over HTTPS with `?access_token=` from `POST /cgi-bin/stable_token` (appid + secret; the normal
//   mode hands back the current token until it expires, force_refresh replaces it and the old one
//   stops working), 40001 for an unknown token, 42001 for an expired one;
// - as 云调用 through the CloudBase platform (the emulator forwards `cloud.openapi.*` to
//   `/_cloudcall/<apiName>` with the environment's appid): no token at all.
import { randomBytes } from 'node:crypto';
import type { SimClock } from './clock';
import type { Registry } from './merchant';

export const ACCESS_TOKEN_LIFETIME_S = 7200;

export type CallOrigin = 'cloud' | 'https';

interface IssuedToken {
  token: string;
  appid: string;
  expiresAt: number;
}

export type AccessCheck = { appid: string; origin: CallOrigin } | { errcode: number; errmsg: string };

export class OpenApiAccess {
  private current = new Map<string, IssuedToken>(); // appid → the token stable_token hands out
  private byToken = new Map<string, IssuedToken>();
  /** Successful stable_token answers: every one hands a caller a token. */
  stableTokens = 0;
  /** Calls that reached an API, by API name and origin. */
  calls: Record<string, { cloud: number; https: number }> = {};

  constructor(
    private readonly registry: Registry,
    private readonly clock: SimClock,
  ) {}

  stableToken(body: Record<string, unknown>): Record<string, unknown> {
    if (body.grant_type !== 'client_credential') return { errcode: 40002, errmsg: 'invalid grant_type' };
    const app = typeof body.appid === 'string' ? this.registry.apps.get(body.appid) : undefined;
    if (!app) return { errcode: 40013, errmsg: 'invalid appid' };
    if (body.secret !== app.secret) return { errcode: 40125, errmsg: 'invalid appsecret' };
    if (body.force_refresh !== undefined && typeof body.force_refresh !== 'boolean')
      return { errcode: 47001, errmsg: 'data format error: force_refresh must be a boolean' };
    const now = this.clock.now();
    let issued = this.current.get(app.appid);
    if (!issued || body.force_refresh === true || issued.expiresAt <= now) {
      if (issued) this.byToken.delete(issued.token);
      issued = {
        token: `sim_${randomBytes(48).toString('base64url')}`,
        appid: app.appid,
        expiresAt: now + ACCESS_TOKEN_LIFETIME_S * 1000,
      };
      this.current.set(app.appid, issued);
      this.byToken.set(issued.token, issued);
    }
    this.stableTokens += 1;
    return { access_token: issued.token, expires_in: Math.ceil((issued.expiresAt - now) / 1000) };
  }

  /** Checks a token-bearing HTTPS call. */
  checkToken(token: string | null): AccessCheck {
    if (!token) return { errcode: 41001, errmsg: 'access_token missing' };
    const issued = this.byToken.get(token);
    if (!issued)
      return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' };
    if (issued.expiresAt <= this.clock.now()) return { errcode: 42001, errmsg: 'access_token expired' };
    return { appid: issued.appid, origin: 'https' };
  }

  /** Checks a 云调用 forwarded by the CloudBase platform for the mini-program `appid`. */
  checkCloudCall(appid: string | undefined): AccessCheck {
    if (!appid || !this.registry.apps.has(appid))
      return { errcode: 40013, errmsg: `invalid appid: the 云调用 names ${appid ?? 'no'} mini-program` };
    return { appid, origin: 'cloud' };
  }

  /** Makes every issued token expired (what two hours do), so the next use answers 42001. */
  expireAll(): number {
    const now = this.clock.now();
    for (const t of this.byToken.values()) t.expiresAt = Math.min(t.expiresAt, now);
    return this.byToken.size;
  }

  count(api: string, origin: CallOrigin): void {
    (this.calls[api] ??= { cloud: 0, https: 0 })[origin] += 1;
  }

  stats() {
    return { stableTokens: this.stableTokens, openapi: structuredClone(this.calls) };
  }

  reset(): void {
    this.current.clear();
    this.byToken.clear();
    this.stableTokens = 0;
    this.calls = {};
  }
}
