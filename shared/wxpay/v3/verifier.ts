// Who may have signed a WeChat Pay message, chosen by its Wechatpay-Serial: the WeChat Pay public
// key (serial PUB_KEY_ID_…) or a platform certificate (hex serial). Verifiers only answer "does this
// signature verify and if not, why"; the Validator turns the answer into a typed error.
import { verify as rsaVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import { WxpayConfigError } from '../errors';

export const PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_';

export type VerifyResult =
  | { ok: true }
  /** `hint` completes "… signature does not verify: <hint>" and says what to configure. */
  | { ok: false; reason: 'unknown-serial' | 'certificate-expired'; hint: string }
  | { ok: false; reason: 'bad-signature' };

export interface Verifier {
  verify(serial: string, message: string | Buffer, signatureBase64: string): VerifyResult;
  /**
   * Optional: fetch fresh keys because `serial` was unknown. Resolves true when a retry may now
   * succeed. Implementations rate-limit themselves (the certificate store: once a minute).
   */
  refresh?(serial: string): Promise<boolean>;
}

const OK: VerifyResult = { ok: true };
const BAD: VerifyResult = { ok: false, reason: 'bad-signature' };

function rsaSha256Verify(key: KeyObject, message: string | Buffer, signatureBase64: string): boolean {
  return rsaVerify(
    'sha256',
    typeof message === 'string' ? Buffer.from(message) : message,
    key,
    Buffer.from(signatureBase64, 'base64'),
  );
}

function requirePublicRsa(key: KeyObject, variable: string, what: string): void {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa') {
    throw new WxpayConfigError(`${variable} must be ${what} (an RSA public key)`, variable);
  }
}

/** WeChat Pay public-key mode: one key, named by its PUB_KEY_ID_… (WXPAY_PUBLIC_KEY_ID). */
export class PublicKeyVerifier implements Verifier {
  constructor(
    readonly keyId: string,
    readonly publicKey: KeyObject,
  ) {
    if (!keyId.startsWith(PUBLIC_KEY_ID_PREFIX)) {
      throw new WxpayConfigError(
        `WXPAY_PUBLIC_KEY_ID must start with ${PUBLIC_KEY_ID_PREFIX} (copy it from 账户中心 → API安全 → 微信支付公钥)`,
        'WXPAY_PUBLIC_KEY_ID',
      );
    }
    requirePublicRsa(publicKey, 'WXPAY_PUBLIC_KEY', 'the WeChat Pay public key pub_key.pem');
  }

  verify(serial: string, message: string | Buffer, signatureBase64: string): VerifyResult {
    if (serial !== this.keyId) {
      return {
        ok: false,
        reason: 'unknown-serial',
        hint: `the Wechatpay-Serial ${serial} is not the configured WXPAY_PUBLIC_KEY_ID ${this.keyId}; set WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY to the key shown in the merchant platform`,
      };
    }
    return rsaSha256Verify(this.publicKey, message, signatureBase64) ? OK : BAD;
  }
}

/** A platform certificate reduced to what verification needs, parsed once. */
export interface PlatformCertificate {
  /** Upper-case hex, as WeChat Pay sends it in Wechatpay-Serial. */
  serial: string;
  publicKey: KeyObject;
  notBefore: number;
  notAfter: number;
}

export function fromX509(cert: X509Certificate): PlatformCertificate {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter))
    throw new WxpayConfigError(`platform certificate ${cert.serialNumber} has an unreadable validity period`);
  const publicKey = cert.publicKey;
  requirePublicRsa(publicKey, 'platform certificate', 'a WeChat Pay platform certificate');
  return { serial: normalizeSerial(cert.serialNumber), publicKey, notBefore, notAfter };
}

/** Node prints serials in upper-case hex; WeChat may send either case and drops no leading zeros. */
export function normalizeSerial(serial: string): string {
  return serial.toUpperCase();
}

/** Platform-certificate mode over a fixed set of certificates (the certificate store swaps sets). */
export class CertificateVerifier implements Verifier {
  private readonly bySerial = new Map<string, PlatformCertificate>();

  constructor(
    certificates: Iterable<PlatformCertificate>,
    private readonly clock: () => number = Date.now,
    /** Completes the unknown-serial hint; the store says what it already tried. */
    private readonly unknownHint: (serial: string) => string = (serial) =>
      `the Wechatpay-Serial ${serial} matches no configured platform certificate; download the current ones (GET /v3/certificates) or switch to WeChat Pay public-key mode (WXPAY_PUBLIC_KEY_ID, WXPAY_PUBLIC_KEY)`,
  ) {
    for (const c of certificates) this.bySerial.set(c.serial, c);
  }

  get certificates(): PlatformCertificate[] {
    return [...this.bySerial.values()];
  }

  has(serial: string): boolean {
    return this.bySerial.has(normalizeSerial(serial));
  }

  verify(serial: string, message: string | Buffer, signatureBase64: string): VerifyResult {
    const cert = this.bySerial.get(serial) ?? this.bySerial.get(normalizeSerial(serial));
    if (!cert) return { ok: false, reason: 'unknown-serial', hint: this.unknownHint(serial) };
    const now = this.clock();
    if (now < cert.notBefore || now > cert.notAfter) {
      return {
        ok: false,
        reason: 'certificate-expired',
        hint: `platform certificate ${cert.serial} is valid only from ${new Date(cert.notBefore).toISOString()} to ${new Date(cert.notAfter).toISOString()}; download the current certificates (GET /v3/certificates) or check this machine's clock`,
      };
    }
    return rsaSha256Verify(cert.publicKey, message, signatureBase64) ? OK : BAD;
  }

  /** The newest certificate valid now: what sensitive fields are encrypted for. */
  newestValid(): PlatformCertificate | undefined {
    const now = this.clock();
    let best: PlatformCertificate | undefined;
    for (const c of this.bySerial.values()) {
      if (now < c.notBefore || now > c.notAfter) continue;
      if (!best || c.notBefore > best.notBefore) best = c;
    }
    return best;
  }
}

/**
 * Picks by serial so a merchant in the middle of the certificate → public-key migration accepts both:
 * PUB_KEY_ID_… goes to the public key, anything else to the platform certificates.
 */
export class CompositeVerifier implements Verifier {
  /**
   * `hints.certificates` replaces what follows "names a platform certificate but" when such a serial
   * arrives and no certificate verifier is configured (the caller knows what is missing).
   */
  constructor(
    private readonly parts: { publicKey?: Verifier; certificates?: Verifier },
    private readonly hints: { certificates?: string } = {},
  ) {
    if (!parts.publicKey && !parts.certificates) {
      throw new WxpayConfigError(
        'configure a WeChat Pay public key (WXPAY_PUBLIC_KEY_ID, WXPAY_PUBLIC_KEY) or platform certificates (WXPAY_APIV3_KEY to download them)',
      );
    }
  }

  private pick(serial: string): Verifier | VerifyResult {
    if (serial.startsWith(PUBLIC_KEY_ID_PREFIX)) {
      return (
        this.parts.publicKey ?? {
          ok: false,
          reason: 'unknown-serial',
          hint: `the Wechatpay-Serial ${serial} is not configured; set WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY (WeChat Pay public-key mode, 账户中心 → API安全 → 微信支付公钥)`,
        }
      );
    }
    return (
      this.parts.certificates ?? {
        ok: false,
        reason: 'unknown-serial',
        hint: `the Wechatpay-Serial ${serial} names a platform certificate but ${this.hints.certificates ?? 'only public-key mode is configured; set WXPAY_APIV3_KEY so platform certificates can be downloaded'}`,
      }
    );
  }

  verify(serial: string, message: string | Buffer, signatureBase64: string): VerifyResult {
    const v = this.pick(serial);
    return 'verify' in v ? v.verify(serial, message, signatureBase64) : v;
  }

  async refresh(serial: string): Promise<boolean> {
    const v = this.pick(serial);
    return 'verify' in v && v.refresh ? v.refresh(serial) : false;
  }
}
