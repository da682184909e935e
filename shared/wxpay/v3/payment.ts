// The object a mini-program passes to wx.requestPayment (API v3, JSAPI): RSA over
// `appId\ntimeStamp\nnonceStr\npackage\n` with the merchant private key.
import { newNonce, unixSeconds, type Signer } from './signer';

/** Exactly the fields wx.requestPayment takes for a v3 prepay_id. */
export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export interface PaymentParamsInput {
  appId: string;
  prepayId: string;
  /** Milliseconds; defaults to Date.now(). */
  now?: number;
  nonce?: string;
}

export function paymentMessage(appId: string, timeStamp: string, nonceStr: string, pkg: string): string {
  return `${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`;
}

export function buildPaymentParams(signer: Signer, input: PaymentParamsInput): RequestPaymentParams {
  const timeStamp = String(unixSeconds(input.now ?? Date.now()));
  const nonceStr = input.nonce ?? newNonce();
  const pkg = `prepay_id=${input.prepayId}`;
  return {
    timeStamp,
    nonceStr,
    package: pkg,
    signType: 'RSA',
    paySign: signer.sign(paymentMessage(input.appId, timeStamp, nonceStr, pkg)),
  };
}
