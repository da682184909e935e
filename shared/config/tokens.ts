// The HS256 tokens login issues and every callable verifies.
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { EnvReader } from './env-reader';

export const JWT_ISSUER = 'wxcloud-pay';

/** What a callable needs to accept a Bearer token. */
export interface JwtVerifyConfig {
  /** HS256 key; a KeyObject so that it cannot be printed by accident. */
  secret: KeyObject;
  issuer: string;
  /** The mini-program's appid: a token minted for one app is refused by another. */
  audience: string;
}

/** What login needs to mint one. */
export interface JwtConfig extends JwtVerifyConfig {
  ttlSeconds: number;
}

export function readJwtVerifier(env: EnvReader, appid: string): JwtVerifyConfig {
  return {
    secret: createSecretKey(Buffer.from(env.bytes('JWT_SECRET'), 'utf8')),
    issuer: JWT_ISSUER,
    audience: appid,
  };
}

export function readJwt(env: EnvReader, verifier: JwtVerifyConfig): JwtConfig {
  return { ...verifier, ttlSeconds: env.integer('JWT_TTL_SECONDS') };
}
