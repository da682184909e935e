// What each cloud function needs from its environment, declared once. Derived from this file:
// the variables each function is deployed with (variablesFor, FUNCTION_VARIABLES), the check a
// function runs at its first invocation (AppConfig.validateFor), the deploy checks, .env.example
// and the envVariables templates of cloudbaserc.json (`npx tsx scripts/deploy/sync-config-files.ts`
// writes both; a test fails when either drifts from this file). It is longer than our other modules
// because it is the table: one entry per variable, per need and per function, and nothing else.
//
// Adding a variable for a new function is a change here only (then run the sync script), e.g.:
//   VARIABLES:  SHOP_NOTICE_IDS: { group: 'business', secret: false,
//                 format: { kind: 'list', item: /^[\w-]{10,64}$/, rule: 'a notice id' },
//                 fix: 'copy the ids from …', doc: ['Notice ids.'] },
//   NEEDS:      shopNotices: { variables: () => ({ required: ['SHOP_NOTICE_IDS'] }) },
//   FUNCTIONS:  wxMessage: ['messagePush', 'shopNotices'],
// and the function reads it with config.list('SHOP_NOTICE_IDS'). A need without `read` is
// checked by each variable's declared format (EnvReader.check); give it a `read` when the function
// parses the value into something richer (a key, a mode, a section of several variables).
import type { AppConfig } from './config';

/** How a value is checked. `rule` completes the sentence "<NAME> …" in an error message. */
export type Format =
  | { kind: 'text' }
  | { kind: 'pattern'; pattern: RegExp; rule: string; upperCase?: boolean }
  | { kind: 'oneOf'; values: readonly string[] }
  | { kind: 'integer'; min: number; max: number; unit: string }
  | { kind: 'bytes'; min: number; max?: number }
  | { kind: 'url' }
  | { kind: 'list'; item: RegExp; rule: string }
  | { kind: 'privateKey' | 'publicKey' | 'certificate' };

export type Group =
  | 'cloudbase'
  | 'miniprogram'
  | 'tokens'
  | 'merchant'
  | 'verification'
  | 'notifyUrls'
  | 'v2'
  | 'business'
  | 'httpApi'
  | 'wechatServer'
  | 'subscribe'
  | 'endpoints'
  | 'dbSetup';

export interface VariableSpec {
  /** The .env.example section it is listed in. */
  group: Group;
  /** Never printed, logged or put into an error message. */
  secret: boolean;
  format: Format;
  /** Used when the variable is unset or blank. */
  default?: string;
  /** Where to find or how to make the value: ends every "not set" / "must be" message. */
  fix?: string;
  /** The value .env.example shows (default: the default, else empty). */
  example?: string;
  /** The .env.example comment lines above the variable; `{default}` is replaced by the default. */
  doc: string[];
}

const WHERE_MERCHANT_CERT =
  '商户平台 → 账户中心 → API安全 → 商户API证书 → 证书序列号 (or `openssl x509 -in apiclient_cert.pem -noout -serial`)';

export const VARIABLES = {
  TCB_ENV_ID: {
    group: 'cloudbase',
    secret: false,
    format: { kind: 'text' },
    doc: [
      'Environment id: 云开发控制台 → 环境 → 环境 ID (e.g. prod-1a2b3c4d). Used by tcb and for the notify URLs.',
    ],
  },
  WX_APPID: {
    group: 'miniprogram',
    secret: false,
    format: {
      kind: 'pattern',
      pattern: /^wx[0-9a-f]{16}$/i,
      rule: 'must be "wx" followed by 16 hex characters',
    },
    fix: "copy the mini-program's AppID from 微信公众平台 → 开发管理 → 开发设置 → AppID",
    doc: ['微信公众平台 → 开发管理 → 开发设置: AppID ("wx" + 16 hex) and AppSecret (32 hex).'],
  },
  WX_APPSECRET: {
    group: 'miniprogram',
    secret: true,
    format: { kind: 'pattern', pattern: /^[0-9a-f]{32}$/i, rule: 'must be 32 hex characters' },
    fix: 'copy it from 微信公众平台 → 开发管理 → 开发设置 → AppSecret (reset it there if unknown)',
    doc: [],
  },
  JWT_SECRET: {
    group: 'tokens',
    secret: true,
    format: { kind: 'bytes', min: 32 },
    fix: 'generate one with `openssl rand -base64 48`',
    doc: ['At least 32 random bytes: openssl rand -base64 48'],
  },
  JWT_TTL_SECONDS: {
    group: 'tokens',
    secret: false,
    format: { kind: 'integer', min: 60, max: 30 * 86_400, unit: 'seconds' },
    default: '7200',
    doc: ['Token lifetime in seconds (default {default}).'],
  },
  WXPAY_MCHID: {
    group: 'merchant',
    secret: false,
    format: { kind: 'pattern', pattern: /^\d{8,12}$/, rule: 'must be the numeric merchant id (8–12 digits)' },
    fix: 'copy it from 商户平台 → 账户中心 → 商户信息 → 微信支付商户号',
    doc: ['商户平台 → 账户中心 → 商户信息: 微信支付商户号 (8–12 digits).'],
  },
  WXPAY_SERIAL_NO: {
    group: 'merchant',
    secret: false,
    format: {
      kind: 'pattern',
      pattern: /^[0-9A-Fa-f]{8,64}$/,
      rule: 'must be the hex serial of the merchant API certificate',
      upperCase: true,
    },
    fix: `copy it from ${WHERE_MERCHANT_CERT}`,
    doc: ["商户平台 → API安全 → 商户API证书: the certificate's serial number (hex)."],
  },
  WXPAY_PRIVATE_KEY: {
    group: 'merchant',
    secret: true,
    format: { kind: 'privateKey' },
    fix: 'the content of apiclient_key.pem from 商户平台 → API安全 → 申请API证书',
    doc: [
      'The content of apiclient_key.pem from the same certificate download (merchant private key).',
      `  one line:  awk 'NF {sub(/\\r/, ""); printf "%s\\\\n", $0}' apiclient_key.pem`,
      "  or bare:   grep -v -- ----- apiclient_key.pem | tr -d '\\n'",
    ],
  },
  WXPAY_APIV3_KEY: {
    group: 'merchant',
    secret: true,
    format: { kind: 'bytes', min: 32, max: 32 },
    fix: 'copy it from 商户平台 → 账户中心 → API安全 → APIv3密钥',
    doc: [
      '商户平台 → API安全 → 设置APIv3密钥: exactly 32 characters. Decrypts notifications and certificates.',
    ],
  },
  WXPAY_PUBLIC_KEY_ID: {
    group: 'verification',
    secret: false,
    format: {
      kind: 'pattern',
      pattern: /^PUB_KEY_ID_[0-9A-Za-z]+$/,
      rule: 'must start with PUB_KEY_ID_ followed by letters or digits',
    },
    fix: 'copy it from 商户平台 → 账户中心 → API安全 → 微信支付公钥',
    doc: [
      'Public-key mode (商户平台 → API安全 → 微信支付公钥): set both. Leave both empty for',
      'platform-certificate mode, where the functions download certificates with WXPAY_APIV3_KEY.',
    ],
  },
  WXPAY_PUBLIC_KEY: {
    group: 'verification',
    secret: true,
    format: { kind: 'publicKey' },
    fix: 'set it to pub_key.pem from 商户平台 → 账户中心 → API安全 → 微信支付公钥',
    doc: [],
  },
  WXPAY_NOTIFY_URL: {
    group: 'notifyUrls',
    secret: false,
    format: { kind: 'url' },
    fix: 'set it like https://<env-id>.service.tcloudbase.com/pay/notify (the payNotify HTTP access path)',
    doc: [
      'https://<TCB_ENV_ID>.service.tcloudbase.com/pay/notify and .../refund/notify (or your custom',
      'domain); must be HTTPS and end in the route path. npm run deploy checks both.',
    ],
  },
  WXPAY_REFUND_NOTIFY_URL: {
    group: 'notifyUrls',
    secret: false,
    format: { kind: 'url' },
    fix: 'set it like https://<env-id>.service.tcloudbase.com/refund/notify (the refundNotify HTTP access path)',
    doc: [],
  },
  WXPAY_API_VERSION: {
    group: 'v2',
    secret: false,
    format: { kind: 'oneOf', values: ['v3', 'v2'] },
    default: 'v3',
    doc: [
      'v3 (default) or v2. v2 needs WXPAY_APIV2_KEY (商户平台 → API安全 → 设置API密钥, 32 characters);',
      'v2 refunds over https also need WXPAY_MERCHANT_CERT (apiclient_cert.pem) with WXPAY_PRIVATE_KEY.',
    ],
  },
  WXPAY_APIV2_KEY: {
    group: 'v2',
    secret: true,
    format: {
      kind: 'pattern',
      pattern: /^[\x21-\x7e]{32}$/,
      rule: 'must be exactly 32 printable ASCII characters',
    },
    fix: 'copy it from 商户平台 → 账户中心 → API安全 → API密钥 (v2); v2 mode (WXPAY_API_VERSION=v2) needs it',
    example: '',
    doc: [],
  },
  WXPAY_V2_SIGN_TYPE: {
    group: 'v2',
    secret: false,
    format: { kind: 'oneOf', values: ['HMAC-SHA256', 'MD5'] },
    default: 'HMAC-SHA256',
    doc: ['HMAC-SHA256 (default) or MD5.'],
  },
  WXPAY_MERCHANT_CERT: {
    group: 'v2',
    secret: true,
    format: { kind: 'certificate' },
    fix: 'set it to apiclient_cert.pem from the same 商户API证书 download as WXPAY_PRIVATE_KEY',
    doc: [],
  },
  ADMIN_OPENIDS: {
    group: 'business',
    secret: false,
    format: {
      kind: 'list',
      item: /^[A-Za-z0-9_-]{6,64}$/,
      rule: 'an openid (6–64 characters of A-Z a-z 0-9 _ -)',
    },
    fix: 'list openids separated by commas',
    doc: ['Openids allowed admin actions (any refund amount, any order), comma-separated.'],
  },
  REFUND_WINDOW_HOURS: {
    group: 'business',
    secret: false,
    format: { kind: 'integer', min: 0, max: 8760, unit: 'hours' },
    default: '168',
    doc: ['How long after payment an owner may request a full refund (hours, default {default}).'],
  },
  HTTP_API: {
    group: 'httpApi',
    secret: false,
    format: { kind: 'oneOf', values: ['on', 'off'] },
    default: 'off',
    doc: [
      'on: also deploy the HTTP access routes /api/login, /api/createPayment, /api/orders, /api/refund, /api/account',
      '(callers send the login token as "Authorization: Bearer <token>"). off or empty: wx.cloud only.',
      'Read by npm run deploy only; never deployed to a function.',
    ],
  },
  HTTP_API_CORS_ORIGINS: {
    group: 'httpApi',
    secret: false,
    format: {
      kind: 'list',
      item: /^https?:\/\/[^\s/,]+$/,
      rule: 'an origin such as https://shop.example.com',
    },
    fix: 'list exact origins separated by commas, or leave it empty for no CORS',
    doc: [
      'Browser origins allowed to call the HTTPS API (CORS), comma-separated and exact, e.g.',
      'https://shop.example.com. Empty: no CORS headers at all (wx.request does not need them).',
    ],
  },
  WECHAT_OPENAPI_MODE: {
    group: 'wechatServer',
    secret: false,
    format: { kind: 'oneOf', values: ['cloud', 'https'] },
    example: '',
    fix: 'use cloud (云调用 inside CloudBase, no secret) or https (stable_token with WX_APPSECRET)',
    doc: [
      "How ship (and the automatic upload of virtual goods) reaches WeChat's server APIs: empty or",
      '"cloud" = 云调用 inside CloudBase (no secret in the function; list the APIs under the function\'s',
      'permissions.openapi), "https" = stable_token with WX_APPSECRET, cached in the wechatTokens collection.',
    ],
  },
  WX_MESSAGE_TOKEN: {
    group: 'wechatServer',
    secret: true,
    format: { kind: 'pattern', pattern: /^[A-Za-z0-9]{3,32}$/, rule: 'must be 3–32 letters or digits' },
    fix: 'set it to the 消息推送 Token of 微信公众平台 → 开发管理 → 开发设置 → 消息推送',
    doc: [
      '微信公众平台 → 开发管理 → 开发设置 → 消息推送: URL https://<TCB_ENV_ID>.service.tcloudbase.com/wx/message,',
      'Token (3–32 letters or digits) = this value, 消息加密方式 明文模式, 数据格式 JSON. Read by wxMessage.',
    ],
  },
  WX_SUBSCRIBE_TEMPLATES: {
    group: 'subscribe',
    secret: false,
    // JSON, read and checked by AppConfig.subscribeTemplates (shared/domain/subscription.ts).
    format: { kind: 'text' },
    example: '',
    fix: 'see README: Subscription messages',
    doc: [
      'Optional. JSON on one line: event (paid, refunded, shipped) → {templateId, page?, data}, where data',
      'maps each key of the template (微信公众平台 → 订阅消息 → 我的模板 → 详情) to a source: productNames,',
      'orderId, amount, paidAt, refundAmount, refundedAt, shippedAt, trackingNo or "text:<literal>", e.g.',
      '{"paid":{"templateId":"<id>","page":"pages/order-detail/order-detail?orderId={orderId}","data":',
      '{"thing1":"productNames","amount2":"amount","time3":"paidAt","character_string4":"orderId"}}}',
      'Empty: no subscription message is sent. The mini-program asks for the same ids (config.ts).',
    ],
  },
  WXPAY_BASE_URL: {
    group: 'endpoints',
    secret: false,
    format: { kind: 'url' },
    default: 'https://api.mch.weixin.qq.com',
    example: '',
    doc: [
      'Leave empty in production (default {default}).',
      'The local stack points it at the simulator; deploy refuses non-HTTPS values.',
    ],
  },
  WECHAT_API_BASE_URL: {
    group: 'endpoints',
    secret: false,
    format: { kind: 'url' },
    default: 'https://api.weixin.qq.com',
    example: '',
    doc: ['Leave empty in production (default {default}); the same rules as WXPAY_BASE_URL.'],
  },
  TENCENTCLOUD_SECRETID: {
    group: 'dbSetup',
    secret: false,
    format: { kind: 'text' },
    doc: [
      'A Tencent Cloud API key (访问管理 → API密钥管理) lets npm run db-setup create the collections, set',
      'their security rules and create the indexes; without it db-setup prints the console steps instead.',
      'Never deployed to any function.',
    ],
  },
  TENCENTCLOUD_SECRETKEY: { group: 'dbSetup', secret: true, format: { kind: 'text' }, doc: [] },
} satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof VARIABLES;

export function variableSpec(name: VariableName): VariableSpec {
  return VARIABLES[name];
}

/** The .env.example sections, in order. */
export const GROUPS: Record<Group, string> = {
  cloudbase: 'CloudBase',
  miniprogram: 'Mini-program (login)',
  tokens: 'Tokens (login issues, every callable verifies)',
  merchant: 'WeChat Pay merchant (API v3)',
  verification: "Verifying WeChat Pay's signatures",
  notifyUrls: 'Notification URLs (the HTTP access routes of cloudbaserc.json)',
  v2: 'Legacy API v2 (optional)',
  business: 'Business rules',
  httpApi: 'HTTPS API (optional; README: HTTPS API)',
  wechatServer: 'Fulfilment: WeChat server APIs and message push (发货信息管理)',
  subscribe: 'Subscription messages (订阅消息, optional; README: Subscription messages)',
  endpoints: 'API endpoints',
  dbSetup: 'Database setup (optional, scripts/db-setup.ts against the cloud)',
};

/** The mode a function's environment selects; it decides which variables the pay needs require. */
export interface PayMode {
  apiVersion: 'v3' | 'v2';
  /** v3: WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY are both set. */
  publicKey: boolean;
  /** v2: the API is reached over https (not the local simulator's plain http). */
  https: boolean;
}

export interface NeedVariables {
  /** Must be set; `why` overrides the "not set" fix of a variable that only this mode requires. */
  required?: VariableName[];
  /** Read when present. */
  optional?: VariableName[];
  why?: Partial<Record<VariableName, string>>;
}

export interface Need {
  /** A need whose list depends on the mode lists WXPAY_API_VERSION as optional (it reads it). */
  variables(mode: PayMode): NeedVariables;
  /** Parses and checks what the need uses (memoised by AppConfig); default: each variable's format. */
  read?(config: AppConfig): unknown;
}

const PAY_V3: VariableName[] = [
  'WX_APPID',
  'WXPAY_MCHID',
  'WXPAY_SERIAL_NO',
  'WXPAY_PRIVATE_KEY',
  'WXPAY_APIV3_KEY',
];
const PAY_V2: VariableName[] = ['WX_APPID', 'WXPAY_MCHID', 'WXPAY_APIV2_KEY'];

function payRequestVariables(mode: PayMode): NeedVariables {
  return mode.apiVersion === 'v2'
    ? { required: PAY_V2, optional: ['WXPAY_API_VERSION', 'WXPAY_BASE_URL', 'WXPAY_V2_SIGN_TYPE'] }
    : {
        required: PAY_V3,
        optional: ['WXPAY_API_VERSION', 'WXPAY_BASE_URL', 'WXPAY_PUBLIC_KEY_ID', 'WXPAY_PUBLIC_KEY'],
      };
}

/** A function's needs, by concern; each lists its variables per mode and how they are read. */
export const NEEDS = {
  wechatApi: {
    variables: () => ({ required: ['WX_APPID', 'WX_APPSECRET'], optional: ['WECHAT_API_BASE_URL'] }),
    read: (c) => c.wechatApi(),
  },
  issueTokens: {
    variables: () => ({ required: ['WX_APPID', 'JWT_SECRET'], optional: ['JWT_TTL_SECONDS'] }),
    read: (c) => c.jwt(),
  },
  verifyTokens: {
    variables: () => ({ required: ['WX_APPID', 'JWT_SECRET'] }),
    read: (c) => c.jwtVerifier(),
  },
  /** Signed requests to WeChat Pay (payments, queries, refunds). */
  payRequests: { variables: payRequestVariables, read: (c) => c.pay() },
  /**
   * Verifying and decrypting notifications. In v3 public-key mode no merchant key is needed; it is
   * still accepted, to download the platform certificates WeChat signs some notifications with
   * while it switches a merchant to the public key.
   */
  payNotifications: {
    variables: (mode) =>
      mode.apiVersion === 'v2'
        ? payRequestVariables(mode)
        : mode.publicKey
          ? {
              required: [
                'WX_APPID',
                'WXPAY_MCHID',
                'WXPAY_APIV3_KEY',
                'WXPAY_PUBLIC_KEY_ID',
                'WXPAY_PUBLIC_KEY',
              ],
              optional: ['WXPAY_API_VERSION', 'WXPAY_BASE_URL', 'WXPAY_SERIAL_NO', 'WXPAY_PRIVATE_KEY'],
            }
          : payRequestVariables(mode),
    read: (c) => (c.apiVersion() === 'v3' ? c.notifyV3() : c.pay()),
  },
  /** v2 refunds (/secapi/pay/refund) present the merchant API certificate over https. */
  v2RefundCertificate: {
    variables: (mode): NeedVariables => {
      if (mode.apiVersion !== 'v2') return { optional: ['WXPAY_API_VERSION'] };
      const modeVariables: VariableName[] = ['WXPAY_API_VERSION', 'WXPAY_BASE_URL'];
      // Plain http (the local simulator) needs no client certificate; one that is set is still used.
      if (!mode.https) return { optional: [...modeVariables, 'WXPAY_MERCHANT_CERT', 'WXPAY_PRIVATE_KEY'] };
      const why =
        'v2 refunds (/secapi/pay/refund) over https need the merchant API certificate: set WXPAY_MERCHANT_CERT to apiclient_cert.pem and WXPAY_PRIVATE_KEY to apiclient_key.pem';
      return {
        required: ['WXPAY_MERCHANT_CERT', 'WXPAY_PRIVATE_KEY'],
        optional: modeVariables,
        why: { WXPAY_MERCHANT_CERT: why, WXPAY_PRIVATE_KEY: why },
      };
    },
    read: (c) => (c.apiVersion() === 'v2' ? c.v2ClientCertificate() : undefined),
  },
  payNotifyUrl: {
    variables: () => ({ required: ['WXPAY_NOTIFY_URL'] }),
    read: (c) => c.notifyUrl(),
  },
  refundNotifyUrl: {
    variables: () => ({ required: ['WXPAY_REFUND_NOTIFY_URL'] }),
    read: (c) => c.refundNotifyUrl(),
  },
  admins: {
    variables: () => ({ optional: ['ADMIN_OPENIDS'] }),
    read: (c) => c.adminOpenids(),
  },
  merchantId: {
    variables: () => ({ required: ['WXPAY_MCHID'] }),
  },
  wechatOpenApi: {
    variables: () => ({
      required: ['WX_APPID'],
      optional: ['WECHAT_OPENAPI_MODE', 'WECHAT_API_BASE_URL', 'WX_APPSECRET'],
    }),
  },
  messagePush: {
    variables: () => ({ required: ['WX_MESSAGE_TOKEN'] }),
  },
  httpApiCors: {
    variables: () => ({ optional: ['HTTP_API_CORS_ORIGINS'] }),
  },
  /**
   * Subscription messages (optional): which template each event sends and how its data is filled.
   * A function that sends also lists wechatOpenApi (how it reaches subscribeMessage.send);
   * createPayment only checks the template ids a caller accepted against these.
   */
  subscribeTemplates: {
    variables: () => ({ optional: ['WX_SUBSCRIBE_TEMPLATES'] }),
    read: (c) => c.subscribeTemplates(),
  },
  refundWindow: {
    variables: () => ({ optional: ['REFUND_WINDOW_HOURS'] }),
    read: (c) => c.refundWindowHours(),
  },
} satisfies Record<string, Need>;

export type NeedName = keyof typeof NEEDS;

/** Every cloud function and what it needs, in the order its first invocation checks them. */
export const FUNCTIONS = {
  login: ['wechatApi', 'issueTokens', 'httpApiCors'],
  createPayment: ['verifyTokens', 'payRequests', 'payNotifyUrl', 'subscribeTemplates', 'httpApiCors'],
  // orders.get confirms payments, and uploads virtual goods' shipping when it does. Subscription
  // messages of what it confirms go out with WeChat's notification (its bundle is at the size budget).
  orders: ['verifyTokens', 'payRequests', 'merchantId', 'wechatOpenApi', 'admins', 'httpApiCors'],
  refund: [
    'verifyTokens',
    'payRequests',
    'v2RefundCertificate',
    'refundNotifyUrl',
    // A refund settled here records its message; reconcile sends it (no WeChat server-API client).
    'subscribeTemplates',
    'admins',
    'refundWindow',
    'httpApiCors',
  ],
  payNotify: ['payNotifications', 'merchantId', 'wechatOpenApi', 'subscribeTemplates'],
  // It settles refunds and sends their `refunded` subscription message.
  refundNotify: ['payNotifications', 'wechatOpenApi', 'subscribeTemplates'],
  // Admins may run it by hand from the mini-program; everyone else is refused.
  // It also retries the shipping uploads of virtual goods and the subscription messages that failed.
  reconcile: ['payRequests', 'merchantId', 'wechatOpenApi', 'subscribeTemplates', 'admins'],
  // The daily timer reconciles yesterday; admins may run any date from the mini-program.
  billReconcile: ['payRequests', 'admins'],
  // Admin-only; uploads shipping info through 云调用 or https + stable_token.
  ship: ['verifyTokens', 'merchantId', 'wechatOpenApi', 'subscribeTemplates', 'admins'],
  // The mini-program's message push (settlement, confirm receipt, reminders).
  wxMessage: ['messagePush'],
  // The caller's own account: binds the phone number through 云调用 or https + stable_token.
  account: ['verifyTokens', 'wechatOpenApi', 'httpApiCors'],
} satisfies Record<string, NeedName[]>;
