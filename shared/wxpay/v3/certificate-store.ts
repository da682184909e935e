// Platform certificates downloaded from GET /v3/certificates: decrypted with the APIv3 key, the
// download's own signature verified (by a certificate it carries — the documented bootstrap — or by
// the WeChat Pay public key), cached per instance, refreshed for an unknown serial at most once per
// interval. No I/O of its own: `download` is the client's downloadCertificates.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { AEAD_ALGORITHM, aeadDecrypt } from './aead';
import { WxpayMalformedResourceError, WxpayUnsupportedAlgorithmError } from './errors';
import type { HeaderBag } from './headers';
import type { EncryptionKey } from './oaep';
import type { CertificatesResponse } from './types';
import { Validator } from './validator';
import {
  CertificateVerifier,
  CompositeVerifier,
  fromX509,
  normalizeSerial,
  type PlatformCertificate,
  type Verifier,
  type VerifyResult,
} from './verifier';
import { WxpayConfigError } from '../errors';

export interface CertificateDownload {
  headers: HeaderBag;
  body: Buffer | string;
  data: CertificatesResponse;
}

export interface CertificateStoreOptions {
  apiV3Key: KeyObject;
  download: () => Promise<CertificateDownload>;
  /** Public-key mode (or migration): verifies downloads WeChat signs with PUB_KEY_ID_…. */
  publicKey?: Verifier;
  clock?: () => number;
  /** Minimum time between two downloads triggered by unknown serials. Default 60 s. */
  minRefreshIntervalMs?: number;
  windowSeconds?: number;
}

const S = 'certificate download' as const;

export class CertificateStore implements Verifier {
  private current: CertificateVerifier;
  private readonly clock: () => number;
  private readonly minRefreshIntervalMs: number;
  private lastAttemptAt: number | undefined;
  private lastLoadedAt: number | undefined;
  private inflight: Promise<PlatformCertificate[]> | undefined;
  /** Downloads performed (observable for tests and diagnostics). */
  downloads = 0;

  constructor(private readonly opts: CertificateStoreOptions) {
    this.clock = opts.clock ?? Date.now;
    this.minRefreshIntervalMs = opts.minRefreshIntervalMs ?? 60_000;
    this.current = this.verifierFor([]);
  }

  get certificates(): PlatformCertificate[] {
    return this.current.certificates;
  }

  verify(serial: string, message: string | Buffer, signatureBase64: string): VerifyResult {
    return this.current.verify(serial, message, signatureBase64);
  }

  /** Downloads again when `serial` is unknown and the last attempt is older than the interval. */
  async refresh(serial: string): Promise<boolean> {
    if (this.current.has(serial)) return true;
    if (this.inflight) {
      await this.inflight;
      return this.current.has(serial);
    }
    if (this.lastAttemptAt !== undefined && this.clock() - this.lastAttemptAt < this.minRefreshIntervalMs)
      return false;
    await this.load();
    return this.current.has(serial);
  }

  /** Downloads now (concurrent callers share one download). */
  load(): Promise<PlatformCertificate[]> {
    if (!this.inflight) {
      this.lastAttemptAt = this.clock();
      this.inflight = this.fetchAndVerify().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  /** The newest certificate valid now, for OAEP-encrypting sensitive fields; downloads if needed. */
  async encryptionKey(): Promise<EncryptionKey> {
    let newest = this.current.newestValid();
    if (
      !newest &&
      (this.lastAttemptAt === undefined || this.clock() - this.lastAttemptAt >= this.minRefreshIntervalMs)
    ) {
      await this.load();
      newest = this.current.newestValid();
    }
    if (!newest)
      throw new WxpayConfigError(
        'no valid WeChat Pay platform certificate is available; check WXPAY_APIV3_KEY and WXPAY_MCHID, or use public-key mode (WXPAY_PUBLIC_KEY_ID, WXPAY_PUBLIC_KEY)',
      );
    return { serial: newest.serial, publicKey: newest.publicKey };
  }

  private verifierFor(certs: PlatformCertificate[]): CertificateVerifier {
    return new CertificateVerifier(certs, this.clock, (serial) => {
      const when =
        this.lastLoadedAt === undefined
          ? 'no certificates have been downloaded yet'
          : `certificates were last downloaded at ${new Date(this.lastLoadedAt).toISOString()}`;
      return (
        `the Wechatpay-Serial ${serial} matches none of the platform certificates from GET /v3/certificates (${when}; downloads at most once per ${Math.round(this.minRefreshIntervalMs / 1000)} s). ` +
        'If WeChat Pay just rotated its certificate this resolves on retry; if it persists, check WXPAY_MCHID / WXPAY_APIV3_KEY or switch to public-key mode (WXPAY_PUBLIC_KEY_ID, WXPAY_PUBLIC_KEY)'
      );
    });
  }

  private async fetchAndVerify(): Promise<PlatformCertificate[]> {
    this.downloads++;
    const res = await this.opts.download();
    const entries = res.data?.data;
    if (!Array.isArray(entries)) throw new WxpayMalformedResourceError(S, 'data', 'an array of certificates');
    const fresh: PlatformCertificate[] = [];
    for (const [i, e] of entries.entries()) {
      const enc = e?.encrypt_certificate;
      if (!enc || typeof enc !== 'object')
        throw new WxpayMalformedResourceError(S, `data[${i}].encrypt_certificate`, 'an object');
      if (enc.algorithm !== AEAD_ALGORITHM)
        throw new WxpayUnsupportedAlgorithmError(S, String(enc.algorithm));
      const pem = aeadDecrypt(this.opts.apiV3Key, enc, S).toString('utf8');
      let cert: PlatformCertificate;
      try {
        cert = fromX509(new X509Certificate(pem));
      } catch {
        throw new WxpayMalformedResourceError(
          S,
          `data[${i}].encrypt_certificate`,
          'a PEM X.509 certificate once decrypted',
        );
      }
      if (typeof e.serial_no !== 'string' || normalizeSerial(e.serial_no) !== cert.serial) {
        throw new WxpayMalformedResourceError(
          S,
          `data[${i}].serial_no`,
          `the serial of the certificate it carries (${cert.serial})`,
        );
      }
      fresh.push(cert);
    }
    // Bootstrap: the download may be signed by a certificate it carries, or by one already trusted,
    // or (public-key mode) by the WeChat Pay public key.
    const candidates = this.verifierFor([...this.current.certificates, ...fresh]);
    const verifier = this.opts.publicKey
      ? new CompositeVerifier({ publicKey: this.opts.publicKey, certificates: candidates })
      : candidates;
    new Validator({
      verifier,
      clock: this.clock,
      ...(this.opts.windowSeconds ? { windowSeconds: this.opts.windowSeconds } : {}),
    }).validateSync(S, res.headers, res.body);
    this.current = this.verifierFor(fresh);
    this.lastLoadedAt = this.clock();
    return fresh;
  }
}
