// login: identity from the invocation context when present, otherwise `code` → jscode2session; the
// user is upserted (`_id` = openid) and a session token issued. session_key never leaves jscode2session.
import type { LoginResponse } from '../../shared/contracts/api';
import { issueToken } from '../../shared/auth/jwt';
import { invalidArgument } from '../../shared/domain/errors';
import { TEXT_PATTERN, optionalString, readObject, type Fields } from '../../shared/domain/validate';
import { getRepositories } from '../../shared/db/repositories';
import { publicCallable } from '../../shared/http/callable';
import { code2Session } from '../../shared/wechat/jscode2session';

const AVATAR_URL = /^https:\/\/[^\s<>"'\\]{1,500}$/;

function readProfile(fields: Fields): { nickName?: string; avatarUrl?: string } | undefined {
  if (fields.profile === undefined) return undefined;
  const p = readObject(fields.profile, 'profile');
  const nickName = optionalString(p, 'nickName', {
    min: 1,
    max: 64,
    pattern: TEXT_PATTERN,
    patternHint: 'text without control characters',
  });
  const avatarUrl = optionalString(p, 'avatarUrl', {
    min: 9,
    max: 512,
    pattern: AVATAR_URL,
    patternHint: 'an https:// URL',
  });
  return { nickName, avatarUrl };
}

export const main = publicCallable<LoginResponse>('login', async ({ fields, identity, config, now }) => {
  const profile = readProfile(fields);
  let openid = identity.openid;
  let unionid = identity.unionid;
  if (!openid) {
    if (fields.code === undefined) throw invalidArgument('code is required: call wx.login and pass its code');
    const session = await code2Session(config.wechatApi(), fields.code as string);
    openid = session.openid;
    unionid = session.unionid;
  }
  const { user, isNew } = await getRepositories().users.recordLogin({
    openid,
    appid: config.appid(),
    now,
    unionid,
    profile,
  });
  const { token, expiresAt } = issueToken(config.jwt(), { openid, unionid });
  return {
    token,
    expiresAt,
    user: {
      openid,
      isNew,
      ...(user.nickName ? { nickName: user.nickName } : {}),
      ...(user.avatarUrl ? { avatarUrl: user.avatarUrl } : {}),
    },
  };
});
