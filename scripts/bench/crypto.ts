// docs/numbers.md#rows-and-targets: signing a request, building payment parameters, verifying + decrypting a
// notification through shared/wxpay/v3, each against bare node:crypto with a cached KeyObject doing
// the same primitive work (nonce, RSA-SHA256, base64; or verify, JSON, AES-256-GCM, JSON).
import {
  createDecipheriv,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  sign as rsaSign,
  verify as rsaVerify,
} from 'node:crypto';
import { buildPaymentParams } from '../../shared/wxpay/v3/payment';
import { RequestSigner, RsaSigner } from '../../shared/wxpay/v3/signer';
import { NotificationParser } from '../../shared/wxpay/v3/notification';
import { Validator } from '../../shared/wxpay/v3/validator';
import { PublicKeyVerifier } from '../../shared/wxpay/v3/verifier';
import { parseApiV3Key } from '../../shared/wxpay/v3/aead';
import { buildTestNotification } from '../../shared/wxpay/v3/testing';
import type { TransactionResource } from '../../shared/wxpay/v3/types';
import { interleave, type InterleaveOptions } from './interleave';
import type { BenchResult } from './types';

export const CRYPTO_TARGET = 0.95;

export async function runCryptoBench(opts: InterleaveOptions = {}): Promise<BenchResult[]> {
  const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  const merchant = rsa();
  const wechat = rsa();
  const mchid = '1900000109';
  const serial = '3A1B2C3D4E5F60718293A4B5C6D7E8F901234567';
  const keyId = 'PUB_KEY_ID_0119000001092026112500000001';
  const appId = 'wxd678efh567hg6787';
  const apiV3Text = randomBytes(24).toString('base64');

  // Ours: keys parsed once per instance, as a function instance would hold them.
  const signer = new RsaSigner(merchant.privateKey, serial);
  const requestSigner = new RequestSigner(mchid, signer);
  const parser = new NotificationParser({
    validator: new Validator({ verifier: new PublicKeyVerifier(keyId, wechat.publicKey) }),
    apiV3Key: parseApiV3Key(apiV3Text),
  });

  const prepayBody = JSON.stringify({
    appid: appId,
    mchid,
    description: 'Image形象店-深圳腾大-QQ公仔',
    out_trade_no: '1217752501201407033233368018',
    notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
    amount: { total: 100, currency: 'CNY' },
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  });
  const resource: TransactionResource = {
    appid: appId,
    mchid,
    out_trade_no: '1217752501201407033233368018',
    transaction_id: '1217752501201407033233368018',
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'CMC',
    attach: '自定义数据',
    success_time: '2018-06-08T10:34:56+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  };
  const n = buildTestNotification({
    apiV3Key: parseApiV3Key(apiV3Text),
    privateKey: wechat.privateKey,
    serial: keyId,
    eventType: 'TRANSACTION.SUCCESS',
    resource,
  });
  const rawBody = Buffer.from(n.body);
  // What a node:http / HTTP-trigger handler receives: lower-cased header names.
  const headers = Object.fromEntries(Object.entries(n.headers).map(([h, v]) => [h.toLowerCase(), v]));

  // Baselines: the same primitive work with node:crypto and cached KeyObjects, nothing else.
  const aesKey = createSecretKey(Buffer.from(apiV3Text));
  const bareSign = () => {
    const nonce = randomBytes(16).toString('hex');
    return rsaSign(
      'sha256',
      Buffer.from(
        `POST\n/v3/pay/transactions/jsapi\n${Math.floor(Date.now() / 1000)}\n${nonce}\n${prepayBody}\n`,
      ),
      merchant.privateKey,
    ).toString('base64');
  };
  const barePay = () => {
    const nonce = randomBytes(16).toString('hex');
    return rsaSign(
      'sha256',
      Buffer.from(
        `${appId}\n${Math.floor(Date.now() / 1000)}\n${nonce}\nprepay_id=wx201410272009395522657a690389285100\n`,
      ),
      merchant.privateKey,
    ).toString('base64');
  };
  const bareNotify = () => {
    const ts = headers['wechatpay-timestamp'];
    const nonce = headers['wechatpay-nonce'];
    const ok = rsaVerify(
      'sha256',
      Buffer.concat([Buffer.from(`${ts}\n${nonce}\n`), rawBody, Buffer.from('\n')]),
      wechat.publicKey,
      Buffer.from(headers['wechatpay-signature'], 'base64'),
    );
    if (!ok) throw new Error('baseline verify failed');
    const env = JSON.parse(rawBody.toString('utf8')) as {
      resource: { ciphertext: string; nonce: string; associated_data: string };
    };
    const data = Buffer.from(env.resource.ciphertext, 'base64');
    const d = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(env.resource.nonce));
    d.setAuthTag(data.subarray(data.length - 16));
    d.setAAD(Buffer.from(env.resource.associated_data));
    return JSON.parse(
      Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]).toString('utf8'),
    ) as unknown;
  };

  // Sanity: both sides do real work and agree.
  if (JSON.stringify(bareNotify()) !== JSON.stringify((await parser.parse(headers, rawBody)).resource))
    throw new Error('notification baseline and ours disagree');

  const results = await interleave(
    [
      {
        name: 'crypto: sign a v3 request (Authorization header)',
        ours: () =>
          requestSigner.authorization({
            method: 'POST',
            pathWithQuery: '/v3/pay/transactions/jsapi',
            body: prepayBody,
          }),
        baseline: bareSign,
      },
      {
        name: 'crypto: wx.requestPayment parameters',
        ours: () => buildPaymentParams(signer, { appId, prepayId: 'wx201410272009395522657a690389285100' }),
        baseline: barePay,
      },
      {
        name: 'crypto: verify + decrypt a notification',
        ours: () => parser.parse(headers, rawBody),
        baseline: bareNotify,
      },
    ],
    opts,
  );
  return results.map((r) => ({
    name: r.name,
    ratio: Number(r.ratio.toFixed(3)),
    target: CRYPTO_TARGET,
    detail: `ours ${Math.round(r.oursOpsPerSec)} vs node:crypto ${Math.round(r.baselineOpsPerSec)} ops per CPU-second (median of ${r.rounds} interleaved rounds × ${r.opsPerSlice} ops; ratio IQR ${r.ratioIqr.map((x) => x.toFixed(3)).join('–')})`,
  }));
}
