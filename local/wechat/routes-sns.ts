// `GET /sns/jscode2session`: login codes issued through the control API, one use each, 5 minutes.
import { randomBytes } from 'node:crypto';
import { hang, sendJson, type Ctx, type Route } from './http';
import type { Simulator } from './simulator';

/** WeChat's `rid`: a request id echoed in errmsg so support can find the call. */
function rid(): string {
  const h = randomBytes(12).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 16)}-${h.slice(16, 24)}`;
}

function fail(ctx: Ctx, errcode: number, message: string): void {
  const r = rid();
  sendJson(ctx.res, 200, { errcode, errmsg: `${message} rid: ${r}`, rid: r });
}

export function snsRoutes(sim: Simulator): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/sns\/jscode2session$/,
      handler: async (ctx) => {
        sim.state.countCall('jscode2session');
        const fault = sim.faults.take('jscode2session', ['timeout', 'lostResponse', '5xx', 'rateLimit']);
        if (fault?.kind === 'timeout') {
          if (fault.delayMs === undefined) return void (await hang(ctx));
          await new Promise((r) => setTimeout(r, fault.delayMs));
        }
        if (fault?.kind === '5xx') return fail(ctx, -1, 'system error, please try again later,');
        if (fault?.kind === 'rateLimit')
          return fail(ctx, 45011, 'api minute-quota reach limit  mustslower  retry next minute,');
        const q = ctx.url.searchParams;
        const appid = q.get('appid') ?? '';
        const app = sim.registry.apps.get(appid);
        if (!app) return fail(ctx, 40013, 'invalid appid,');
        if (q.get('secret') !== app.secret) return fail(ctx, 40125, 'invalid appsecret,');
        if (q.get('grant_type') !== 'authorization_code') return fail(ctx, 40002, 'invalid grant_type,');
        const code = sim.state.codes.get(q.get('js_code') ?? '');
        if (!code || code.appid !== appid || sim.clock.now() >= code.expiresAt)
          return fail(ctx, 40029, 'invalid code,');
        if (code.used) return fail(ctx, 40163, 'code been used,');
        code.used = true;
        const user = sim.state.users.get(code.openid)!;
        user.sessionKey = randomBytes(16).toString('base64');
        // the code is spent even though the caller never hears about it
        if (fault?.kind === 'lostResponse') return void (await hang(ctx));
        sendJson(ctx.res, 200, {
          session_key: user.sessionKey,
          openid: user.openid,
          ...(user.unionid ? { unionid: user.unionid } : {}),
        });
      },
    },
  ];
}
