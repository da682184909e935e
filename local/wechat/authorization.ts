// Parses and checks the merchant's `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",…` header.
import { rsaVerify, v3RequestMessage } from './crypto';
import { V3Error, v3 } from './errors';
import type { MerchantAccount } from './merchant';

export const AUTH_SCHEMA = 'WECHATPAY2-SHA256-RSA2048';
const FIELDS = ['mchid', 'nonce_str', 'signature', 'timestamp', 'serial_no'] as const;
export type AuthFields = Record<(typeof FIELDS)[number], string>;

/** Returns the five fields, or a reason why the header is unusable. */
export function parseAuthorization(header: string | undefined): AuthFields | string {
  if (!header) return '缺少Authorization请求头';
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space) !== AUTH_SCHEMA)
    return `Authorization认证类型错误，应为${AUTH_SCHEMA}`;
  const out: Partial<AuthFields> = {};
  for (const part of header.slice(space + 1).split(',')) {
    const m = /^\s*([a-z_]+)="?([^"]*)"?\s*$/.exec(part);
    if (!m) return 'Authorization格式错误';
    if ((FIELDS as readonly string[]).includes(m[1])) out[m[1] as keyof AuthFields] = m[2]!;
  }
  for (const f of FIELDS) if (!out[f]) return `Authorization中缺少${f}`;
  return out as AuthFields;
}

export const MAX_CLOCK_SKEW_SECONDS = 300;

/**
 * Verifies a v3 request exactly as WeChat Pay does; answers the merchant or throws 401 SIGN_ERROR.
 * `pathWithQuery` must be the raw request target (path and query as sent).
 */
export function verifyRequest(
  req: { method: string; pathWithQuery: string; authorization: string | undefined; body: string },
  merchants: Map<string, MerchantAccount>,
  nowMs = Date.now(),
): MerchantAccount {
  const auth = parseAuthorization(req.authorization);
  if (typeof auth === 'string') throw v3.sign(auth);
  const merchant = merchants.get(auth.mchid);
  if (!merchant) throw v3.sign(`商户号${auth.mchid}不存在或签名的商户号错误`);
  if (auth.serial_no.toUpperCase() !== merchant.merchantSerial)
    throw v3.sign('商户证书序列号有误，请核实后再试');
  if (
    !/^\d{1,12}$/.test(auth.timestamp) ||
    Math.abs(Number(auth.timestamp) - nowMs / 1000) > MAX_CLOCK_SKEW_SECONDS
  ) {
    throw v3.sign('签名时间戳已过期或超出允许范围（±5分钟）');
  }
  const message = v3RequestMessage(req.method, req.pathWithQuery, auth.timestamp, auth.nonce_str, req.body);
  if (!rsaVerify(message, auth.signature, merchant.merchantPublicKey)) {
    throw new V3Error(401, 'SIGN_ERROR', '签名错误，请检查后再试', {
      issue: 'sign not match',
      location: 'header',
    });
  }
  return merchant;
}
