// Platform certificates downloaded from GET /v3/certificates: decrypted with the APIv3 key, the
// download's own signature verified (by a certificate it carries — the documented bootstrap — or by
// the WeChat Pay public key), cached per instance, refreshed for an unknown serial at most once per
// interval. With a `shared` store (the database: certificates are public) the last download and the
// time of the last refresh are shared by every instance, so a flood of forged serials hitting many
// cold instances still causes at most one download per interval across the deployment.
// No I/O of its own: `download` is the client's downloadCertificates, `shared` an adapter.
// Over 250 lines because download, bootstrap verification, rate limiting and the shared database claim are
// one state machine.
import { setTimeout as sleep } from 'node:timers/promises';
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

/** What instances share: the last verified download and when a download last started. */
export interface SharedCertificates {
  /** PEMs of the last verified download (empty until one is saved). */
  pems: string[];
  /** When an instance last claimed a download (ms since the epoch): the deployment-wide rate limit. */
  refreshedAtMs: number;
  /** When `pems` were saved (ms); older than `refreshedAtMs` while a download is under way. */
  savedAtMs: number;
}

/**
 * Where instances share platform certificates (e.g. a database collection). Implementations do I/O
 * only; the rate-limit decisions are the store's.
 */
export interface SharedCertificateStore {
  read(): Promise<SharedCertificates | undefined>;
  /**
   * Claims the next download: atomically moves `refreshedAtMs` from `previous` (undefined: nothing
   * stored yet) to `now`. False when another instance claimed first; true for exactly one of racers.
   */
  claimRefresh(previous: number | undefined, now: number): Promise<boolean>;
  /** Records a verified download. */
  save(pems: string[], savedAtMs: number): Promise<void>;
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
  /** Certificates and refresh time shared by all instances; without it each instance limits itself. */
  shared?: SharedCertificateStore;
  /**
   * With `shared`: minimum time between two reads of it for unknown serials by this instance
   * (default 5 s), so forged serials cost at most one read per instance per interval.
   */
  sharedReadIntervalMs?: number;
  /** Where a failing shared store is reported (then this instance limits itself). Default console.warn. */
  warn?: (message: string) => void;
}

/** How long an instance waits for another one's download to be saved before giving up. */
const SHARED_WAIT_MS = 5_000;
const SHARED_POLL_MS = 200;

const S = 'certificate download' as const;

export class CertificateStore implements Verifier {
  private current: CertificateVerifier;
  private readonly clock: () => number;
  private readonly minRefreshIntervalMs: number;
  private lastAttemptAt: number | undefined;
  private lastLoadedAt: number | undefined;
  private inflight: Promise<PlatformCertificate[]> | undefined;
  private sharedInflight: Promise<void> | undefined;
  private lastSharedReadAt: number | undefined;
  private adoptedSavedAtMs: number | undefined;
  private sharedBrokenUntil: number | undefined;
  /** Downloads performed by this instance (observable for tests and diagnostics). */
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

  /**
   * Makes `serial` known if a download allows it: from the shared store when another instance
   * already downloaded it, else by downloading when the last refresh (with a shared store anyone's,
   * without one this instance's) is older than the interval.
   */
  async refresh(serial: string): Promise<boolean> {
    if (this.current.has(serial)) return true;
    if (this.sharing()) {
      await this.syncShared(() => this.current.has(serial));
      if (this.sharing()) return this.current.has(serial);
    }
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

  /** True while a shared store is configured and has not just failed. */
  private sharing(): boolean {
    return (
      this.opts.shared !== undefined &&
      (this.sharedBrokenUntil === undefined || this.clock() >= this.sharedBrokenUntil)
    );
  }

  /**
   * One shared-store round per instance at a time; callers check what they wanted afterwards.
   * A failing store is reported and skipped for an interval; a failing download is the caller's.
   */
  private syncShared(satisfied: () => boolean): Promise<void> {
    if (!this.sharedInflight) {
      this.sharedInflight = this.fromShared(satisfied)
        .catch((err: unknown) => {
          if (!(err instanceof SharedStoreFailure)) throw err;
          this.sharedBrokenUntil = this.clock() + this.minRefreshIntervalMs;
          (this.opts.warn ?? console.warn)(
            `[wxpay] the shared platform-certificate store failed (${err.detail}); this instance limits its own certificate downloads for the next ${Math.round(this.minRefreshIntervalMs / 1000)} s. If the platformCertificates collection is missing, create it (npm run db-setup) so that all instances share one download per minute`,
          );
        })
        .finally(() => {
          this.sharedInflight = undefined;
        });
    }
    return this.sharedInflight;
  }

  private async fromShared(satisfied: () => boolean): Promise<void> {
    const shared = this.opts.shared!;
    const readInterval = this.opts.sharedReadIntervalMs ?? 5_000;
    // Forged serials cost one read per interval; an instance without certificates always looks.
    if (
      this.current.certificates.length > 0 &&
      this.lastSharedReadAt !== undefined &&
      this.clock() - this.lastSharedReadAt < readInterval
    )
      return;
    this.lastSharedReadAt = this.clock();
    // Round two only after losing the claim: the winner's download is then under way.
    for (let round = 0; round < 2; round++) {
      const record = await this.readUntilSaved(shared, satisfied);
      if (satisfied()) return;
      const now = this.clock();
      if (record && now - record.refreshedAtMs < this.minRefreshIntervalMs) return;
      if (await viaShared(() => shared.claimRefresh(record?.refreshedAtMs, now))) {
        this.lastAttemptAt = now;
        const fresh = await this.fetchAndVerify();
        this.adoptedSavedAtMs = now;
        await viaShared(() =>
          shared.save(
            fresh.map((c) => c.pem),
            now,
          ),
        );
        return;
      }
    }
  }

  /** Reads and adopts; while another instance's download is under way, waits (bounded) for it. */
  private async readUntilSaved(
    shared: SharedCertificateStore,
    satisfied: () => boolean,
  ): Promise<SharedCertificates | undefined> {
    let record = await viaShared(() => shared.read());
    this.adopt(record);
    for (
      let polls = 0;
      record &&
      !satisfied() &&
      record.savedAtMs < record.refreshedAtMs &&
      this.clock() - record.refreshedAtMs < SHARED_WAIT_MS &&
      polls < SHARED_WAIT_MS / SHARED_POLL_MS;
      polls++
    ) {
      await sleep(SHARED_POLL_MS);
      record = await viaShared(() => shared.read());
      this.adopt(record);
    }
    return record;
  }

  /** Takes over the certificates another instance saved (it verified the download they came in). */
  private adopt(record: SharedCertificates | undefined): void {
    if (!record || record.pems.length === 0 || record.savedAtMs === this.adoptedSavedAtMs) return;
    if (this.lastLoadedAt !== undefined && record.savedAtMs <= this.lastLoadedAt) return;
    let certs: ParsedCertificate[];
    try {
      certs = record.pems.map((pem, i) => parseCertificate(pem, `shared certificate ${i}`));
    } catch {
      throw new SharedStoreFailure('a stored certificate is not a PEM X.509 platform certificate');
    }
    this.current = this.verifierFor(certs);
    this.lastLoadedAt = record.savedAtMs;
    this.adoptedSavedAtMs = record.savedAtMs;
  }

  /** The newest certificate valid now, for OAEP-encrypting sensitive fields; downloads if needed. */
  async encryptionKey(): Promise<EncryptionKey> {
    let newest = this.current.newestValid();
    if (!newest && this.sharing()) {
      await this.syncShared(() => this.current.newestValid() !== undefined);
      newest = this.current.newestValid();
    }
    if (
      !newest &&
      !this.sharing() &&
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

  private async fetchAndVerify(): Promise<ParsedCertificate[]> {
    this.downloads++;
    const res = await this.opts.download();
    const entries = res.data?.data;
    if (!Array.isArray(entries)) throw new WxpayMalformedResourceError(S, 'data', 'an array of certificates');
    const fresh: ParsedCertificate[] = [];
    for (const [i, e] of entries.entries()) {
      const enc = e?.encrypt_certificate;
      if (!enc || typeof enc !== 'object')
        throw new WxpayMalformedResourceError(S, `data[${i}].encrypt_certificate`, 'an object');
      if (enc.algorithm !== AEAD_ALGORITHM)
        throw new WxpayUnsupportedAlgorithmError(S, String(enc.algorithm));
      const pem = aeadDecrypt(this.opts.apiV3Key, enc, S).toString('utf8');
      const cert = parseCertificate(pem, `data[${i}].encrypt_certificate`);
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

/** A shared-store call that failed: reported once, then this instance limits itself. */
class SharedStoreFailure extends Error {
  constructor(readonly detail: string) {
    super(`shared platform-certificate store: ${detail}`);
  }
}

async function viaShared<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new SharedStoreFailure(err instanceof Error ? err.message : String(err));
  }
}

/** A platform certificate with the PEM it came from (what the shared store keeps). */
type ParsedCertificate = PlatformCertificate & { pem: string };

function parseCertificate(pem: string, where: string): ParsedCertificate {
  try {
    return { ...fromX509(new X509Certificate(pem)), pem };
  } catch {
    throw new WxpayMalformedResourceError(S, where, 'a PEM X.509 certificate once decrypted');
  }
}
