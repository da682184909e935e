// The access_token of https mode, kept in the database so that every instance of every function
// shares one token (collection `wechatTokens`, `_id` = appid; admin-only like the other collections).
// Refreshing is guarded by a lease taken with a conditional update on `version`, so a storm of cold
// instances asks WeChat once while the others wait for the result.
import { COLLECTIONS } from '../../db/collections';
import { getDatabase, run, type Database } from '../../db/database';
import { isDuplicateKey } from '../../db/errors';

export const TOKENS_COLLECTION = COLLECTIONS.wechatTokens;

export interface TokenDoc {
  _id: string;
  accessToken?: string;
  /** Epoch ms at which WeChat stops accepting the token. */
  expiresAtMs?: number;
  /** Epoch ms after which the next caller refreshes it (before expiry). */
  refreshAtMs?: number;
  leaseOwner?: string;
  leaseUntilMs?: number;
  version: number;
}

/** What the token manager needs from storage; the database implementation is below. */
export interface TokenStore {
  read(appid: string): Promise<TokenDoc | undefined>;
  /** Takes the refresh lease if the document is still at `version` (or creates it); true when won. */
  takeLease(appid: string, version: number | undefined, owner: string, untilMs: number): Promise<boolean>;
  /** Saves a fresh token and ends the lease, only while `owner` still holds it. */
  saveToken(
    appid: string,
    owner: string,
    token: { accessToken: string; expiresAtMs: number; refreshAtMs: number },
  ): Promise<boolean>;
  releaseLease(appid: string, owner: string): Promise<void>;
}

/** The `wechatTokens` collection of `db` (the function's own database by default; a test passes its own). */
export function databaseTokenStore(db: () => Database = getDatabase): TokenStore {
  const tokens = () => db().collection(TOKENS_COLLECTION);
  return {
    async read(appid) {
      const res = await run(`get ${TOKENS_COLLECTION}`, () => tokens().where({ _id: appid }).limit(1).get());
      return res.data[0] as TokenDoc | undefined;
    },

    async takeLease(appid, version, owner, untilMs) {
      if (version === undefined) {
        try {
          await run(`add ${TOKENS_COLLECTION}`, () =>
            tokens().add({ _id: appid, leaseOwner: owner, leaseUntilMs: untilMs, version: 1 }),
          );
          return true;
        } catch (err) {
          if (isDuplicateKey(err)) return false; // another instance created it first
          throw err;
        }
      }
      const res = (await run(`update ${TOKENS_COLLECTION}`, () =>
        tokens()
          .where({ _id: appid, version })
          .update({ leaseOwner: owner, leaseUntilMs: untilMs, version: version + 1 }),
      )) as { updated?: number };
      return res?.updated === 1;
    },

    async saveToken(appid, owner, { accessToken, expiresAtMs, refreshAtMs }) {
      const _ = db().command;
      const res = (await run(`update ${TOKENS_COLLECTION}`, () =>
        tokens()
          .where({ _id: appid, leaseOwner: owner })
          .update({
            accessToken,
            expiresAtMs,
            refreshAtMs,
            leaseOwner: '',
            leaseUntilMs: 0,
            version: _.inc(1),
          }),
      )) as { updated?: number };
      return res?.updated === 1;
    },

    async releaseLease(appid, owner) {
      const _ = db().command;
      await run(`update ${TOKENS_COLLECTION}`, () =>
        tokens()
          .where({ _id: appid, leaseOwner: owner })
          .update({ leaseOwner: '', leaseUntilMs: 0, version: _.inc(1) }),
      );
    },
  };
}
