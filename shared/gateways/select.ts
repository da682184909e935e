// One gateway per function instance, in the mode WXPAY_API_VERSION selects. Keys are parsed once (by
// shared/config) and the HTTP client keeps its connections across invocations.
import type { AppConfig } from '../config/config';
import { isConfigError } from '../config/errors';
import { DatabaseCertificateStore } from '../db/platform-certificates';
import type { NotificationGateway, PayGateway } from './gateway';
import { V2Gateway } from './v2';
import { V3Gateway, V3Notifications } from './v3';

let cached: { config: AppConfig; gateway: PayGateway } | undefined;

function optionalUrl(read: () => string): string | undefined {
  try {
    return read();
  } catch (err) {
    if (isConfigError(err)) return undefined; // WeChat then uses the URL set in the merchant platform
    throw err;
  }
}

export function getGateway(config: AppConfig): PayGateway {
  if (cached?.config === config) return cached.gateway;
  const notifyUrl = optionalUrl(() => config.notifyUrl());
  const refundNotifyUrl = optionalUrl(() => config.refundNotifyUrl());
  const gateway =
    config.apiVersion() === 'v2'
      ? new V2Gateway({
          config: config.payV2(),
          notifyUrl,
          refundNotifyUrl,
          clientCertificate: config.v2ClientCertificate(), // only the refund function is given WXPAY_MERCHANT_CERT
        })
      : new V3Gateway({
          config: config.payV3(),
          notifyUrl,
          refundNotifyUrl,
          sharedCertificates: new DatabaseCertificateStore(config.payV3().mchid),
        });
  cached = { config, gateway };
  return gateway;
}

let cachedNotifications: { config: AppConfig; gateway: NotificationGateway } | undefined;

/**
 * The gateway of a notification endpoint. In v3 with the merchant credentials it is the payment
 * gateway (its verifier knows the public key and the downloaded platform certificates); without them
 * (public-key mode: a notify function needs no merchant key) it verifies with the public key
 * alone. In v2 the API v2 key both verifies and decrypts.
 */
export function getNotificationGateway(config: AppConfig): NotificationGateway {
  if (cachedNotifications?.config === config) return cachedNotifications.gateway;
  let gateway: NotificationGateway;
  if (config.apiVersion() === 'v2') {
    gateway = new V2Gateway({ config: config.payV2() });
  } else {
    const c = config.notifyV3();
    gateway = c.merchant || !c.publicKey ? getGateway(config) : V3Notifications.publicKeyOnly(c, c.publicKey);
  }
  cachedNotifications = { config, gateway };
  return gateway;
}
