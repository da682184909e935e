// The fulfilment functions' own variables, read on first use. Folded into shared/config by the lead.
//   WXPAY_MCHID        the merchant id in order_key (ship, wxMessage, the payment paths' auto-upload)
//   WX_MESSAGE_TOKEN   消息推送 Token (wxMessage): 3–32 letters or digits, as set in 微信公众平台
import { ConfigError } from '../../config/errors';
import { Secret } from '../../config/secret';

export function readMerchantId(env: NodeJS.ProcessEnv = process.env): string {
  const mchid = env.WXPAY_MCHID?.trim() ?? '';
  if (!/^\d{8,12}$/.test(mchid))
    throw new ConfigError(
      'WXPAY_MCHID',
      'WXPAY_MCHID must be the numeric merchant id (8–12 digits) the orders were paid to; copy it from 商户平台 → 账户中心 → 商户信息',
    );
  return mchid;
}

export function readMessageToken(env: NodeJS.ProcessEnv = process.env): Secret {
  const token = env.WX_MESSAGE_TOKEN?.trim() ?? '';
  if (!/^[A-Za-z0-9]{3,32}$/.test(token))
    throw new ConfigError(
      'WX_MESSAGE_TOKEN',
      'WX_MESSAGE_TOKEN must be the 消息推送 Token (3–32 letters or digits) set in 微信公众平台 → 开发管理 → 开发设置 → 消息推送',
    );
  return new Secret(token);
}
