// Environment → typed configuration. Nothing is read at import: each section is read, validated and
// parsed on first use and memoised for the life of the instance (keys are parsed once into
// KeyObjects). What each function needs is declared in declaration.ts; `validateFor` checks exactly
// that. The sections are read by one module per concern (wechat, tokens, merchant-keys, pay-mode).
import type { KeyObject } from 'node:crypto';
import type { SubscribeTemplates } from '../domain/subscription';
import { FUNCTIONS, NEEDS, VARIABLES, type Need, type VariableName } from './declaration';
import { EnvReader, type Env } from './env-reader';
import { ConfigError } from './errors';
import {
  readApiV2Key,
  readApiV3Key,
  readMerchantPrivateKey,
  readPublicKey,
  readSerialNo,
  readV2ClientCertificate,
} from './merchant-keys';
import {
  readApiVersion,
  readNotifyV3,
  readPayV2,
  readPayV3,
  type NotifyV3Config,
  type PayConfig,
  type PayParts,
  type PayV2Config,
  type PayV3Config,
  type V2ClientCertificate,
  type WxpayApiVersion,
} from './pay-mode';
import { readJwt, readJwtVerifier, type JwtConfig, type JwtVerifyConfig } from './tokens';
import { payModeOf, type FunctionName } from './variables';
import { readAppid, readWechatApi, type WechatApiConfig } from './wechat';

export type { Env } from './env-reader';
export type {
  NotifyV3Config,
  PayCommonConfig,
  PayConfig,
  PayV2Config,
  PayV3Config,
  V2ClientCertificate,
  V2SignType,
  WxpayApiVersion,
} from './pay-mode';
export { JWT_ISSUER, type JwtConfig, type JwtVerifyConfig } from './tokens';
export type { WechatApiConfig } from './wechat';

export const DEFAULT_JWT_TTL_SECONDS = Number(VARIABLES.JWT_TTL_SECONDS.default);
export const DEFAULT_REFUND_WINDOW_HOURS = Number(VARIABLES.REFUND_WINDOW_HOURS.default);
export const DEFAULT_WXPAY_BASE_URL = VARIABLES.WXPAY_BASE_URL.default;
export const DEFAULT_WECHAT_API_BASE_URL = VARIABLES.WECHAT_API_BASE_URL.default;

type TemplateParser = (raw: string) => SubscribeTemplates;
let templateParser: TemplateParser | undefined;

/**
 * WX_SUBSCRIBE_TEMPLATES' parser, installed by ./subscribe-templates.ts where it is needed. It throws
 * an Error whose message names the variable and the fix (wrapped here as a ConfigError).
 */
export function installSubscribeTemplateParser(parse: TemplateParser): void {
  templateParser = parse;
}

export class AppConfig {
  readonly #env: Env;
  readonly #read: EnvReader;
  readonly #memo = new Map<string, unknown>();
  /** Functions whose declaration has been checked: every section read is memoised, so once is enough. */
  readonly #validated = new Set<FunctionName>();
  readonly #parts: PayParts = {
    appid: () => this.appid(),
    merchantPrivateKey: () => this.merchantPrivateKey(),
    serialNo: () => this.#once('serialNo', () => readSerialNo(this.#read)),
    apiV3Key: () => this.#once('apiV3Key', () => readApiV3Key(this.#read)),
    publicKey: () => this.#once('publicKey', () => readPublicKey(this.#read)),
    apiV2Key: () => this.#once('apiV2Key', () => readApiV2Key(this.#read)),
  };

  constructor(env: Env) {
    this.#env = env;
    this.#read = new EnvReader(env);
  }

  #once<T>(section: string, read: () => T): T {
    if (this.#memo.has(section)) return this.#memo.get(section) as T;
    const value = read();
    this.#memo.set(section, value);
    return value;
  }

  appid(): string {
    return this.#once('appid', () => readAppid(this.#read));
  }

  /** Token verification (every callable). */
  jwtVerifier(): JwtVerifyConfig {
    return this.#once('jwtVerifier', () => readJwtVerifier(this.#read, this.appid()));
  }

  /** Token issuing (login): the verifier plus the lifetime. */
  jwt(): JwtConfig {
    return this.#once('jwt', () => readJwt(this.#read, this.jwtVerifier()));
  }

  wechatApi(): WechatApiConfig {
    return this.#once('wechatApi', () => readWechatApi(this.#read, this.appid()));
  }

  apiVersion(): WxpayApiVersion {
    return this.#once('apiVersion', () => readApiVersion(this.#read));
  }

  /** The merchant private key (`apiclient_key.pem`), parsed once. */
  merchantPrivateKey(): KeyObject {
    return this.#once('merchantPrivateKey', () => readMerchantPrivateKey(this.#read));
  }

  payV3(): PayV3Config {
    return this.#once('payV3', () => readPayV3(this.#read, this.#parts));
  }

  /** The v3 notification endpoints' configuration (payNotify, refundNotify). */
  notifyV3(): NotifyV3Config {
    return this.#once('notifyV3', () => readNotifyV3(this.#read, this.#parts));
  }

  payV2(): PayV2Config {
    return this.#once('payV2', () => readPayV2(this.#read, this.#parts));
  }

  /** The v2 refunds' client certificate (WXPAY_MERCHANT_CERT + WXPAY_PRIVATE_KEY), when configured. */
  v2ClientCertificate(): V2ClientCertificate | undefined {
    return this.#once('v2ClientCertificate', () =>
      readV2ClientCertificate(this.#read, () => this.merchantPrivateKey()),
    );
  }

  /** The pay configuration of the mode WXPAY_API_VERSION selects. */
  pay(): PayConfig {
    return this.apiVersion() === 'v2' ? this.payV2() : this.payV3();
  }

  notifyUrl(): string {
    return this.#once('notifyUrl', () => this.#read.url('WXPAY_NOTIFY_URL'));
  }

  refundNotifyUrl(): string {
    return this.#once('refundNotifyUrl', () => this.#read.url('WXPAY_REFUND_NOTIFY_URL'));
  }

  adminOpenids(): ReadonlySet<string> {
    return this.#once('adminOpenids', () => new Set(this.list('ADMIN_OPENIDS')));
  }

  /** WX_SUBSCRIBE_TEMPLATES parsed and checked; undefined when unset (no message is sent). */
  subscribeTemplates(): SubscribeTemplates | undefined {
    return this.#once('subscribeTemplates', () => {
      const raw = this.#read.optional('WX_SUBSCRIBE_TEMPLATES');
      if (raw === undefined) return undefined;
      if (!templateParser)
        throw new Error(
          'WX_SUBSCRIBE_TEMPLATES read without its parser: import shared/config/subscribe-templates',
        );
      try {
        return templateParser(raw);
      } catch (err) {
        if ((err as Error).name !== 'TemplateConfigError') throw err;
        throw new ConfigError('WX_SUBSCRIBE_TEMPLATES', (err as Error).message);
      }
    });
  }

  refundWindowHours(): number {
    return this.integer('REFUND_WINDOW_HOURS');
  }

  // A declared variable without a section of its own, read and checked by its declared format.

  text(name: VariableName): string {
    return this.#once(name, () => this.#read.matching(name));
  }

  choice<T extends string>(name: VariableName): T {
    return this.#once(name, () => this.#read.choice<T>(name));
  }

  integer(name: VariableName): number {
    return this.#once(name, () => this.#read.integer(name));
  }

  list(name: VariableName): readonly string[] {
    return this.#once(name, () => this.#read.list(name));
  }

  /**
   * Reads and validates everything function `name` declares (declaration.ts), so that a deployment
   * mistake surfaces at the first invocation with one actionable error instead of half-way through
   * a payment. A configuration that passed is not checked again (it is read once per instance, like
   * every section here); one that failed is checked again on the next call.
   */
  validateFor(name: FunctionName): void {
    if (this.#validated.has(name)) return;
    const mode = payModeOf(this.#env);
    for (const needName of FUNCTIONS[name]) {
      const need: Need = NEEDS[needName];
      const { required = [], optional = [], why = {} } = need.variables(mode);
      // A need that reads the mode had its list chosen by WXPAY_API_VERSION: an invalid value is the
      // first problem to report, before any variable that value made look missing.
      if (optional.includes('WXPAY_API_VERSION')) this.apiVersion();
      for (const variable of required) this.#read.required(variable, why[variable]);
      if (need.read) need.read(this);
      else for (const variable of [...required, ...optional]) this.#read.check(variable);
    }
    this.#validated.add(name);
  }
}

export function createConfig(env: Env = process.env): AppConfig {
  return new AppConfig(env);
}

let processConfig: AppConfig | undefined;

/** The process-wide configuration over `process.env`, created on first call (never at import). */
export function getConfig(): AppConfig {
  processConfig ??= new AppConfig(process.env);
  return processConfig;
}
