// `users`: `_id` = openid, so two concurrent first logins race on one insert and exactly one wins.
import { COLLECTIONS } from './collections';
import { run, type Database } from './database';
import { isDuplicateKey } from './errors';
import { conflict } from '../domain/errors';
import type { BoundPhone } from '../domain/phone';

export interface UserDoc {
  _id: string; // openid
  appid: string;
  unionid?: string;
  nickName?: string;
  avatarUrl?: string;
  roles: string[];
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date;
  loginCount: number;
  /** Personal data: returned to its owner only, masked anywhere else, never logged. */
  phone?: BoundPhone;
}

export interface LoginRecord {
  openid: string;
  appid: string;
  unionid?: string;
  profile?: { nickName?: string; avatarUrl?: string };
  now: Date;
}

export interface UserRepository {
  get(openid: string): Promise<UserDoc | undefined>;
  /** Creates the user on first login, otherwise counts the login; `isNew` is true for exactly one caller. */
  recordLogin(rec: LoginRecord): Promise<{ user: UserDoc; isNew: boolean }>;
  /**
   * Stores a verified number unless a later verification is already stored (so a slow, older bind
   * never overwrites a newer one and a repeat changes nothing). `missing`: the user never logged in.
   */
  bindPhone(
    openid: string,
    phone: BoundPhone,
  ): Promise<{ outcome: 'applied' | 'newer'; phone: BoundPhone } | { outcome: 'missing' }>;
}

export function userRepository(db: Database): UserRepository {
  const users = () => db.collection(COLLECTIONS.users);

  const get = async (openid: string): Promise<UserDoc | undefined> => {
    const res = await run('get users', () => users().where({ _id: openid }).limit(1).get());
    return res.data[0] as UserDoc | undefined;
  };

  const touch = async (rec: LoginRecord): Promise<boolean> => {
    const _ = db.command;
    const set: Record<string, unknown> = { lastLoginAt: rec.now, updatedAt: rec.now, loginCount: _.inc(1) };
    if (rec.unionid) set.unionid = rec.unionid;
    if (rec.profile?.nickName !== undefined) set.nickName = rec.profile.nickName;
    if (rec.profile?.avatarUrl !== undefined) set.avatarUrl = rec.profile.avatarUrl;
    const res = (await run('update users', () => users().where({ _id: rec.openid }).update(set))) as {
      updated?: number;
    };
    return res?.updated === 1;
  };

  const bindPhone: UserRepository['bindPhone'] = async (openid, phone) => {
    const _ = db.command;
    const res = (await run('update users', () =>
      users()
        .where(
          _.and([
            { _id: openid },
            _.or([{ phone: _.exists(false) }, { 'phone.verifiedAt': _.lte(phone.verifiedAt) }]),
          ]),
        )
        .update({ phone: _.set(phone), updatedAt: phone.verifiedAt }),
    )) as { updated?: number };
    if (res?.updated === 1) return { outcome: 'applied', phone };
    const user = await get(openid);
    if (!user) return { outcome: 'missing' };
    // Nothing matched although the user exists: only a newer verification can explain it.
    if (!user.phone)
      throw conflict('the phone number changed while it was being bound; tap the button again');
    return { outcome: 'newer', phone: user.phone };
  };

  return {
    get,
    bindPhone,
    async recordLogin(rec) {
      if (!(await touch(rec))) {
        const doc: UserDoc = {
          _id: rec.openid,
          appid: rec.appid,
          roles: [],
          createdAt: rec.now,
          updatedAt: rec.now,
          lastLoginAt: rec.now,
          loginCount: 1,
        };
        if (rec.unionid) doc.unionid = rec.unionid;
        if (rec.profile?.nickName !== undefined) doc.nickName = rec.profile.nickName;
        if (rec.profile?.avatarUrl !== undefined) doc.avatarUrl = rec.profile.avatarUrl;
        try {
          await run('insert users', () => users().add(doc));
          return { user: doc, isNew: true };
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          await touch(rec); // a concurrent first login created it between our update and insert
        }
      }
      const user = await get(rec.openid);
      if (!user) throw new Error('user vanished right after login update');
      return { user, isNew: false };
    },
  };
}
