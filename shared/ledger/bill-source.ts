// Fetches one day's bill from WeChat Pay and proves it intact before anyone parses it: the v3
// 申请账单 answer names a download_url and the SHA1 of the bill; the file is downloaded (signed GET)
// to a temporary file, its decompressed content hashed, and only a matching file is handed out.
// WeChat refusing (no bill yet, still generating) and a tampered file are both "unavailable" with
// the reason — never an exception, never a partial parse.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { WxpayError, WxpayUpstreamError } from '../wxpay/errors';
import { gunzipped } from './bill-parser';

export type BillKind = 'trade' | 'fundflow';

export type BillFetch =
  | {
      ok: true;
      /** The decompressed bill text, as many times as needed. */
      open(): Readable;
      /** Removes the temporary file. */
      dispose(): Promise<void>;
    }
  | { ok: false; code: string; message: string };

export interface BillSource {
  /** `date` is YYYY-MM-DD (China time). */
  fetch(kind: BillKind, date: string): Promise<BillFetch>;
}

export interface BillLocationLike {
  download_url: string;
  hash_type: string;
  hash_value: string;
}

/** What the v3 client offers for bills (WxpayV3Client's applyTradeBill / applyFundFlowBill / downloadBill). */
export interface V3BillApi {
  applyTradeBill(billDate: string): Promise<BillLocationLike>;
  applyFundFlowBill(billDate: string): Promise<BillLocationLike>;
  downloadBill(downloadUrl: string): Promise<Readable>;
}

/** What the v2 client offers (V2Client.downloadBill). */
export interface V2BillApi {
  downloadBill(input: { billDate: string }): Promise<Readable>;
}

/** WeChat's "no bill (yet)" answers, or any refusal: its code and message, for the record. */
function refused(err: unknown): { ok: false; code: string; message: string } {
  if (err instanceof WxpayUpstreamError) return { ok: false, code: err.upstreamCode, message: err.message };
  if (err instanceof WxpayError) return { ok: false, code: err.code, message: err.message };
  throw err;
}

async function downloadToFile(stream: Readable, dir: string, kind: BillKind, date: string): Promise<string> {
  const file = join(dir, `wxpay-bill-${kind}-${date}-${randomUUID()}.gz`);
  try {
    await pipeline(stream, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
  return file;
}

/** SHA1 hex of the decompressed content; undefined when the file is not gzip. */
async function sha1OfGzip(file: string): Promise<string | undefined> {
  const hash = createHash('sha1');
  try {
    await pipeline(createReadStream(file), createGunzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) hash.update(chunk);
    });
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}

function verifiedFile(file: string): BillFetch {
  return {
    ok: true,
    open: () => gunzipped(createReadStream(file)),
    dispose: () => rm(file, { force: true }),
  };
}

export function v3BillSource(api: V3BillApi, opts: { tmpDir?: string } = {}): BillSource {
  const dir = opts.tmpDir ?? tmpdir();
  return {
    async fetch(kind, date) {
      let location: BillLocationLike;
      try {
        location = kind === 'trade' ? await api.applyTradeBill(date) : await api.applyFundFlowBill(date);
      } catch (err) {
        return refused(err);
      }
      if (location.hash_type !== 'SHA1' || !/^[0-9a-fA-F]{40}$/.test(location.hash_value ?? ''))
        return {
          ok: false,
          code: 'UNSUPPORTED_HASH',
          message: `WeChat Pay described the ${kind} bill of ${date} with hash_type ${String(location.hash_type).slice(0, 16)}; only SHA1 is documented, so the file cannot be checked`,
        };
      let file: string;
      try {
        file = await downloadToFile(await api.downloadBill(location.download_url), dir, kind, date);
      } catch (err) {
        return refused(err);
      }
      const actual = await sha1OfGzip(file);
      if (actual !== location.hash_value.toLowerCase()) {
        await rm(file, { force: true });
        return {
          ok: false,
          code: 'HASH_MISMATCH',
          message:
            actual === undefined
              ? `the downloaded ${kind} bill of ${date} is not gzip: it was damaged in transit; nothing was parsed, run billReconcile for ${date} again`
              : `the downloaded ${kind} bill of ${date} does not match the SHA1 WeChat Pay announced (${location.hash_value.slice(0, 12)}…, got ${actual.slice(0, 12)}…): it was altered or truncated in transit; nothing was parsed, run billReconcile for ${date} again`,
        };
      }
      return verifiedFile(file);
    },
  };
}

/** v2 mode: /pay/downloadbill answers the file itself, with no hash to check (only gzip's own CRC). */
export function v2BillSource(api: V2BillApi, opts: { tmpDir?: string } = {}): BillSource {
  const dir = opts.tmpDir ?? tmpdir();
  return {
    async fetch(kind, date) {
      if (kind !== 'trade')
        return {
          ok: false,
          code: 'NOT_SUPPORTED',
          message:
            'API v2 fund-flow bills (/pay/downloadfundflow) need the merchant certificate; only the trade bill is reconciled in v2 mode',
        };
      let file: string;
      try {
        file = await downloadToFile(
          await api.downloadBill({ billDate: date.replace(/-/g, '') }),
          dir,
          kind,
          date,
        );
      } catch (err) {
        return refused(err);
      }
      if ((await sha1OfGzip(file)) === undefined) {
        await rm(file, { force: true });
        return {
          ok: false,
          code: 'BILL_CORRUPT',
          message: `the downloaded trade bill of ${date} is not valid gzip; nothing was parsed, run billReconcile for ${date} again`,
        };
      }
      return verifiedFile(file);
    },
  };
}
