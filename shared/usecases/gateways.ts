// One PayGateway per function instance, in the mode WXPAY_API_VERSION selects. Keys are parsed once
// (by shared/config) and the HTTP client keeps its connections across invocations.
import type { AppConfig } from '../config/config';
import { isConfigError } from '../config/errors';
import { CompositeVerifier, NotificationParser, PublicKeyVerifier, Validator } from '../wxpay/v3';
import type { PayGateway } from './gateway';
import { V3Gateway } from './gateway-v3';

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
  let gateway: PayGateway;
  if (config.apiVersion() === 'v2') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { V2Gateway } = require('./gateway-v2') as typeof import('./gateway-v2');
    const clientCertificate = config.v2ClientCertificate(); // only the refund function is given WXPAY_MERCHANT_CERT
    gateway = new V2Gateway({
      config: config.payV2(),
      ...(notifyUrl ? { notifyUrl } : {}),
      ...(refundNotifyUrl ? { refundNotifyUrl } : {}),
      ...(clientCertificate ? { clientCertificate } : {}),
    });
  } else {
    gateway = new V3Gateway({
      config: config.payV3(),
      ...(notifyUrl ? { notifyUrl } : {}),
      ...(refundNotifyUrl ? { refundNotifyUrl } : {}),
    });
  }
  cached = { config, gateway };
  return gateway;
}

let cachedParser: { config: AppConfig; parser: NotificationParser } | undefined;

/**
 * The v3 notification parser of a notification endpoint. With the merchant credentials it shares the
 * gateway's verifier (public key and downloaded platform certificates); without them (public-key
 * mode, docs/configuration.md#notify-endpoints-without-a-merchant-key) it needs no merchant key at all.
 */
export function getNotificationParser(config: AppConfig): NotificationParser {
  if (cachedParser?.config === config) return cachedParser.parser;
  const c = config.notifyV3();
  let parser: NotificationParser;
  if (c.merchant) {
    parser = (getGateway(config) as V3Gateway).wxpay.notifications!;
  } else {
    const verifier = new CompositeVerifier(
      { publicKey: new PublicKeyVerifier(c.publicKey!.id, c.publicKey!.key) },
      {
        certificates:
          'this function has no merchant key to download certificates with; give it WXPAY_SERIAL_NO and WXPAY_PRIVATE_KEY (WeChat signs some notifications with a certificate during its 7-day switch to the public key)',
      },
    );
    parser = new NotificationParser({ validator: new Validator({ verifier }), apiV3Key: c.apiV3Key });
  }
  cachedParser = { config, parser };
  return parser;
}
