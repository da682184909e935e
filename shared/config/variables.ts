// Which environment variables each cloud function reads (SPEC §4). The deploy script gives every
// function exactly these (CloudBase allows 4 KB of variables per function) and config.validateFor
// reads exactly these, so the two cannot drift apart (config.test.ts checks it).

export const FUNCTION_NAMES = [
  'login',
  'createPayment',
  'orders',
  'refund',
  'payNotify',
  'refundNotify',
  'reconcile',
  'billReconcile',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export interface FunctionVariables {
  /** Must be set (non-empty) or the function fails at its first invocation. */
  required: string[];
  /** Read when present (defaults, optional modes). */
  optional: string[];
}

const PAY_V3_REQUIRED = [
  'WX_APPID',
  'WXPAY_MCHID',
  'WXPAY_SERIAL_NO',
  'WXPAY_PRIVATE_KEY',
  'WXPAY_APIV3_KEY',
];
const PAY_OPTIONAL = [
  'WXPAY_API_VERSION',
  'WXPAY_BASE_URL',
  'WXPAY_PUBLIC_KEY_ID',
  'WXPAY_PUBLIC_KEY',
  'WXPAY_APIV2_KEY',
  'WXPAY_V2_SIGN_TYPE',
];

/** The default (API v3) variable sets. For the mode-aware answer use `variablesFor(name, env)`. */
export const FUNCTION_VARIABLES: Record<FunctionName, FunctionVariables> = {
  login: {
    required: ['WX_APPID', 'WX_APPSECRET', 'JWT_SECRET'],
    optional: ['JWT_TTL_SECONDS', 'WECHAT_API_BASE_URL'],
  },
  createPayment: {
    required: ['JWT_SECRET', ...PAY_V3_REQUIRED, 'WXPAY_NOTIFY_URL'],
    optional: [...PAY_OPTIONAL],
  },
  orders: { required: ['JWT_SECRET', ...PAY_V3_REQUIRED], optional: [...PAY_OPTIONAL, 'ADMIN_OPENIDS'] },
  refund: {
    required: ['JWT_SECRET', ...PAY_V3_REQUIRED, 'WXPAY_REFUND_NOTIFY_URL'],
    optional: [...PAY_OPTIONAL, 'ADMIN_OPENIDS', 'REFUND_WINDOW_HOURS', 'WXPAY_MERCHANT_CERT'],
  },
  payNotify: { required: [...PAY_V3_REQUIRED], optional: [...PAY_OPTIONAL] },
  refundNotify: { required: [...PAY_V3_REQUIRED], optional: [...PAY_OPTIONAL] },
  reconcile: { required: [...PAY_V3_REQUIRED], optional: [...PAY_OPTIONAL] },
  billReconcile: { required: [...PAY_V3_REQUIRED], optional: [...PAY_OPTIONAL, 'ADMIN_OPENIDS'] },
};

const V3_ONLY = ['WXPAY_SERIAL_NO', 'WXPAY_PRIVATE_KEY', 'WXPAY_APIV3_KEY'];

/**
 * The variables `name` needs under the mode `env` selects. In v3 public-key mode the notification
 * endpoints need no merchant key (it is optional, for certificate-signed notifications). In v2 mode
 * the v3 credentials give way to WXPAY_APIV2_KEY; a v2 refund against an https base URL also needs
 * the merchant client certificate (WXPAY_MERCHANT_CERT with its key WXPAY_PRIVATE_KEY) for
 * /secapi/pay/refund.
 */
export function variablesFor(
  name: FunctionName,
  env: Readonly<Record<string, string | undefined>> = {},
): FunctionVariables {
  const base = FUNCTION_VARIABLES[name];
  const v2 = (env.WXPAY_API_VERSION ?? '').trim() === 'v2';
  const set = (k: string) => (env[k] ?? '').trim() !== '';
  if (
    !v2 &&
    (name === 'payNotify' || name === 'refundNotify') &&
    set('WXPAY_PUBLIC_KEY_ID') &&
    set('WXPAY_PUBLIC_KEY')
  ) {
    // Public-key mode: a notification endpoint verifies with the public key and decrypts with the
    // apiV3 key; the merchant key only serves to download platform certificates while WeChat still
    // signs some notifications with them (the switch to the public key takes 7 days).
    const required = [
      'WX_APPID',
      'WXPAY_MCHID',
      'WXPAY_APIV3_KEY',
      'WXPAY_PUBLIC_KEY_ID',
      'WXPAY_PUBLIC_KEY',
    ];
    return {
      required,
      optional: [
        ...base.optional.filter((v) => !required.includes(v)),
        'WXPAY_SERIAL_NO',
        'WXPAY_PRIVATE_KEY',
      ],
    };
  }
  if (!v2 || name === 'login') return { required: [...base.required], optional: [...base.optional] };
  let required = base.required.filter((v) => !V3_ONLY.includes(v));
  const optional = base.optional.filter(
    (v) => v !== 'WXPAY_APIV2_KEY' && v !== 'WXPAY_PUBLIC_KEY_ID' && v !== 'WXPAY_PUBLIC_KEY',
  );
  required.push('WXPAY_APIV2_KEY');
  if (name === 'refund') {
    const baseUrl = (env.WXPAY_BASE_URL ?? '').trim() || 'https://api.mch.weixin.qq.com';
    // Plain http (the local simulator) needs no client certificate; one that is set is still used.
    if (baseUrl.startsWith('https:')) required = [...required, 'WXPAY_MERCHANT_CERT', 'WXPAY_PRIVATE_KEY'];
    else optional.push('WXPAY_PRIVATE_KEY');
  }
  return { required, optional: optional.filter((v) => !required.includes(v)) };
}
