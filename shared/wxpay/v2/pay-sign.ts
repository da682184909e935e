// The object a mini-program passes to wx.requestPayment for a v2 prepay_id: the five fields signed
// with the v2 rules (camelCase keys exactly as listed, `package=prepay_id=…`).
import { randomBytes } from 'node:crypto';
import type { RequestPaymentParams } from '../../contracts/api';
import { signV2, type V2Key, type V2SignType } from './sign';

export interface V2PaymentParams extends RequestPaymentParams {
  signType: V2SignType;
}

export interface V2PaymentParamsInput {
  appId: string;
  prepayId: string;
  /** Milliseconds; defaults to Date.now(). */
  now?: number;
  nonce?: string;
}

export function newV2Nonce(): string {
  return randomBytes(16).toString('hex');
}

export function buildV2PaymentParams(
  input: V2PaymentParamsInput,
  key: V2Key,
  signType: V2SignType,
): V2PaymentParams {
  const timeStamp = String(Math.floor((input.now ?? Date.now()) / 1000));
  const nonceStr = input.nonce ?? newV2Nonce();
  const pkg = `prepay_id=${input.prepayId}`;
  const paySign = signV2({ appId: input.appId, timeStamp, nonceStr, package: pkg, signType }, key, signType);
  return { timeStamp, nonceStr, package: pkg, signType, paySign };
}
