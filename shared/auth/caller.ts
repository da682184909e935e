// Who is calling. The platform's invocation context (cloud.getWXContext().OPENID, filled by WeChat
// for wx.cloud.callFunction) is the truth when present; HTTP access has no context identity and must
// present a login token. The event's own fields are never identity. Pure: the function handler passes
// the context values in, so this module does not load wx-server-sdk.
import type { JwtVerifyConfig } from '../config/config';
import { AuthError } from './errors';
import { verifyToken } from './jwt';

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

export interface CallerInput {
  /** `cloud.getWXContext().OPENID` (empty or absent for HTTP access). */
  contextOpenid?: string | null;
  /** `cloud.getWXContext().UNIONID`, when the platform gives one. */
  contextUnionid?: string | null;
  /** The HTTP headers of an HTTP-access invocation, any letter case. */
  headers?: HeaderBag | null;
  /** Read only when a token must be checked, so context-identified calls never need JWT_SECRET. */
  jwt: JwtVerifyConfig | (() => JwtVerifyConfig);
  /** Unix seconds; for tests. */
  now?: number;
}

export interface Caller {
  openid: string;
  unionid?: string;
  source: 'context' | 'token';
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(headers: HeaderBag | null | undefined): string | undefined {
  if (!headers) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'authorization' || value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(first ?? '');
    if (!match)
      throw new AuthError(
        'malformed',
        'The Authorization header must be "Bearer <token>" with the token from login',
      );
    return match[1];
  }
  return undefined;
}

export function resolveCaller(input: CallerInput): Caller {
  const contextOpenid = typeof input.contextOpenid === 'string' ? input.contextOpenid.trim() : '';
  if (contextOpenid) {
    const caller: Caller = { openid: contextOpenid, source: 'context' };
    if (input.contextUnionid) caller.unionid = input.contextUnionid;
    return caller;
  }
  const token = bearerToken(input.headers);
  if (token === undefined) {
    throw new AuthError(
      'missing',
      'Sign in first: call the login function and send its token as "Authorization: Bearer <token>"',
    );
  }
  const config = typeof input.jwt === 'function' ? input.jwt() : input.jwt;
  const verified = verifyToken(config, token, input.now);
  const caller: Caller = { openid: verified.openid, source: 'token' };
  if (verified.unionid) caller.unionid = verified.unionid;
  return caller;
}
