// `platformCertificates`: WeChat Pay platform certificates (public) shared by every function
// instance, one document per merchant (`_id` = mchid), so that certificate downloads are rate-limited
// across the deployment instead of per instance. The refresh claim is a conditional update on
// `refreshedAtMs` (or the insert of the first document): of racing instances exactly one wins.
import type { SharedCertificateStore, SharedCertificates } from '../wxpay/v3/certificate-store';
import { COLLECTIONS } from './collections';
import { getDatabase, run, type Database } from './database';
import { isDuplicateKey } from './errors';

export interface PlatformCertificatesDoc {
  _id: string;
  /** PEMs of the last verified GET /v3/certificates. */
  certificates: string[];
  /** When an instance last claimed a download (ms since the epoch). */
  refreshedAtMs: number;
  /** When `certificates` were saved (ms since the epoch). */
  savedAtMs: number;
  updatedAt: Date;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

export class DatabaseCertificateStore implements SharedCertificateStore {
  /** `db`: the function's database by default; a test passes its own handle. */
  constructor(
    private readonly mchid: string,
    private readonly db: () => Database = getDatabase,
  ) {}

  private collection() {
    return this.db().collection(COLLECTIONS.platformCertificates);
  }

  async read(): Promise<SharedCertificates | undefined> {
    const res = await run('get platformCertificates', () =>
      this.collection().where({ _id: this.mchid }).limit(1).get(),
    );
    const doc = res.data[0] as Partial<PlatformCertificatesDoc> | undefined;
    if (!doc) return undefined;
    const pems = Array.isArray(doc.certificates)
      ? doc.certificates.filter((p): p is string => typeof p === 'string')
      : [];
    // A hand-edited document without numbers reads as "long ago": the next refresh may claim it.
    return {
      pems,
      refreshedAtMs: isCount(doc.refreshedAtMs) ? doc.refreshedAtMs : 0,
      savedAtMs: isCount(doc.savedAtMs) ? doc.savedAtMs : 0,
    };
  }

  async claimRefresh(previous: number | undefined, now: number): Promise<boolean> {
    if (previous === undefined) {
      const doc: PlatformCertificatesDoc = {
        _id: this.mchid,
        certificates: [],
        refreshedAtMs: now,
        savedAtMs: 0,
        updatedAt: new Date(now),
      };
      try {
        await run('insert platformCertificates', () => this.collection().add(doc));
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    }
    const _ = this.db().command;
    // `previous` 0 is also how read() reports a document whose refreshedAtMs is missing or broken.
    const where =
      previous === 0
        ? _.or([
            { _id: this.mchid, refreshedAtMs: 0 },
            { _id: this.mchid, refreshedAtMs: _.exists(false) },
          ])
        : { _id: this.mchid, refreshedAtMs: previous };
    const res = (await run('update platformCertificates', () =>
      this.collection()
        .where(where)
        .update({ refreshedAtMs: now, updatedAt: new Date(now) }),
    )) as { updated?: number };
    return res?.updated === 1;
  }

  async save(pems: string[], savedAtMs: number): Promise<void> {
    await run('update platformCertificates', () =>
      this.collection()
        .doc(this.mchid)
        .update({ certificates: pems, savedAtMs, updatedAt: new Date(savedAtMs) }),
    );
  }
}
