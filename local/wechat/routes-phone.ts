// Phone numbers: WeChat's `POST /wxa/business/getuserphonenumber` (云调用 `phonenumber.getPhoneNumber`),
// served through the server-API frame of routes-openapi.ts (access_token or 云调用 origin, faults
// targeting `phone`, `/sim/stats` key `getuserphonenumber`), and the user's side as a control call:
// `POST /sim/phone-codes {openid, phoneNumber?, countryCode?}` → `{code, expiresAt}`.
import { parseJsonObject, sendJson, type Route } from './http';
import { PhoneCodeError, type PhoneCodes } from './phone-numbers';
import type { OpenApi } from './routes-openapi';
import type { Simulator } from './simulator';

export function phoneNumberApi(codes: PhoneCodes): OpenApi {
  return {
    path: '/wxa/business/getuserphonenumber',
    cloudName: 'phonenumber.getPhoneNumber',
    faultTarget: 'phone',
    // 该功能使用次数已达当前小程序上限: the number-verification quota WeChat sells per mini-program
    quotaErrcode: 1400001,
    handler: (appid, body) => codes.redeem(appid, body),
  };
}

function optionalText(b: Record<string, unknown>, key: string): string | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new PhoneCodeError(400, `${key} must be a string`);
  return v;
}

export function phoneControlRoutes(sim: Simulator, codes: PhoneCodes): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/sim\/phone-codes$/,
      handler: (ctx) => {
        const b = parseJsonObject(ctx.body);
        if (!b) return sendJson(ctx.res, 400, { error: 'body must be a JSON object {openid, phoneNumber?}' });
        try {
          const openid = b.openid;
          const user = typeof openid === 'string' ? sim.state.users.get(openid) : undefined;
          if (!user)
            return sendJson(ctx.res, 404, {
              error: `unknown test user ${JSON.stringify(openid)}; create one with POST /sim/users`,
            });
          const phoneNumber = optionalText(b, 'phoneNumber');
          const countryCode = optionalText(b, 'countryCode');
          const issued = codes.issue(user.appid, user.openid, {
            ...(phoneNumber !== undefined ? { purePhoneNumber: phoneNumber } : {}),
            ...(countryCode !== undefined ? { countryCode } : {}),
          });
          sendJson(ctx.res, 200, { code: issued.code, expiresAt: new Date(issued.expiresAt).toISOString() });
        } catch (err) {
          if (!(err instanceof PhoneCodeError)) throw err;
          sendJson(ctx.res, 400, { error: err.message });
        }
      },
    },
  ];
}
