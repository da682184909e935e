// Session tokens for callers without a platform identity (HTTP access): HS256 only, issuer and
// audience pinned, expiry required. jsonwebtoken does the crypto; the policy lives here.
import type * as Jwt from 'jsonwebtoken';
import type { JwtConfig, JwtVerifyConfig } from '../config/config';
import { AuthError } from './errors';

/** Tokens longer than this are refused before any parsing (a header is ~4 KB at most anyway). */
const MAX_TOKEN_LENGTH = 2048;
const OPENID = /^[A-Za-z0-9_-]{6,64}$/;

export interface Identity {
  openid: string;
  unionid?: string;
}

export interface IssuedToken {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface VerifiedToken extends Identity {
  /** Unix seconds. */
  expiresAt: number;
}

let loaded: typeof Jwt | undefined;

/** jsonwebtoken (with jws, jwa) on first use: callers with a platform identity never need it. */
function jwt(): typeof Jwt {
  // require (not import): esbuild keeps the CommonJS build behind a wrapper that runs on this call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (see the line above)
  return (loaded ??= require('jsonwebtoken') as typeof Jwt);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function issueToken(config: JwtConfig, identity: Identity, now = nowSeconds()): IssuedToken {
  if (!OPENID.test(identity.openid))
    throw new TypeError('issueToken: openid must be 6–64 characters of A-Z a-z 0-9 _ -');
  const payload: Record<string, unknown> = { iat: now };
  if (identity.unionid) payload.unionid = identity.unionid;
  const token = jwt().sign(payload, config.secret, {
    algorithm: 'HS256',
    expiresIn: config.ttlSeconds,
    issuer: config.issuer,
    audience: config.audience,
    subject: identity.openid,
  });
  return { token, expiresAt: now + config.ttlSeconds };
}

export function verifyToken(config: JwtVerifyConfig, token: string, now = nowSeconds()): VerifiedToken {
  if (
    typeof token !== 'string' ||
    token.length === 0 ||
    token.length > MAX_TOKEN_LENGTH ||
    !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)
  ) {
    throw new AuthError(
      'malformed',
      'The token is malformed; call login again and send its token as "Authorization: Bearer <token>"',
    );
  }
  let claims: Jwt.JwtPayload;
  try {
    const decoded = jwt().verify(token, config.secret, {
      algorithms: ['HS256'],
      issuer: config.issuer,
      audience: config.audience,
      clockTimestamp: now,
      complete: false,
    });
    if (typeof decoded === 'string') throw new Error('string payload');
    claims = decoded;
  } catch (err) {
    if (err instanceof jwt().TokenExpiredError)
      throw new AuthError('expired', 'The token has expired; call login again');
    throw new AuthError('invalid', 'The token is not valid for this app; call login again');
  }
  // jsonwebtoken accepts tokens without exp; ours always carry one.
  if (typeof claims.exp !== 'number')
    throw new AuthError('invalid', 'The token has no expiry; call login again');
  if (typeof claims.sub !== 'string' || !OPENID.test(claims.sub))
    throw new AuthError('invalid', 'The token has no valid subject; call login again');
  const verified: VerifiedToken = { openid: claims.sub, expiresAt: claims.exp };
  if (typeof claims.unionid === 'string' && claims.unionid) verified.unionid = claims.unionid;
  return verified;
}
