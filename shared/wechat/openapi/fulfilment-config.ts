// The fulfilment functions' own variables, read on first use through the one declaration
// (shared/config/declaration.ts):
//   WXPAY_MCHID        the merchant id in order_key (ship, wxMessage, the payment paths' auto-upload)
//   WX_MESSAGE_TOKEN   消息推送 Token (wxMessage): 3–32 letters or digits, as set in 微信公众平台
import { getConfig, type AppConfig } from '../../config/config';
import { Secret } from '../../config/secret';

export function readMerchantId(config: AppConfig = getConfig()): string {
  return config.text('WXPAY_MCHID');
}

export function readMessageToken(config: AppConfig = getConfig()): Secret {
  return new Secret(config.text('WX_MESSAGE_TOKEN'));
}
