import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createConfig } from '../config/config';
import { AuthError, bearerToken, issueToken, resolveCaller, verifyToken } from './index';

const APPID = 'wx0123456789abcdef';
const SECRET = randomBytes(32).toString('base64url');
const config = createConfig({ WX_APPID: APPID, JWT_SECRET: SECRET, JWT_TTL_SECONDS: '600' }).jwt();
const OPENID = 'oUser_1234567890abcdef';
const NOW = 1_800_000_000;

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function handMade(
  header: object,
  payload: object,
  key: Buffer | string = SECRET,
  alg: 'sha256' | 'sha512' = 'sha256',
): string {
  const head = `${b64url(header)}.${b64url(payload)}`;
  return `${head}.${createHmac(alg, key).update(head).digest('base64url')}`;
}
const goodClaims = { sub: OPENID, iss: 'wxcloud-pay', aud: APPID, iat: NOW, exp: NOW + 600 };

function rejects(token: string, reason: AuthError['reason'], now = NOW): AuthError {
  let caught: unknown;
  try {
    verifyToken(config, token, now);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AuthError, `expected AuthError, got ${String(caught)}`);
  assert.equal(caught.reason, reason);
  assert.equal(caught.code, 'UNAUTHENTICATED');
  assert.match(caught.message, /login/);
  assert.ok(!caught.message.includes(SECRET));
  return caught;
}

describe('jwt', () => {
  test('issued token is plain HS256 with iss, aud, sub, exp (checked by an independent HMAC)', () => {
    const { token, expiresAt } = issueToken(config, { openid: OPENID, unionid: 'uUnion_1' }, NOW);
    assert.equal(expiresAt, NOW + 600);
    const [h, p, s] = token.split('.') as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    assert.deepEqual(
      { sub: claims.sub, iss: claims.iss, aud: claims.aud, iat: claims.iat, exp: claims.exp },
      goodClaims,
    );
    assert.equal(createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'), s);
    assert.deepEqual(verifyToken(config, token, NOW + 1), {
      openid: OPENID,
      unionid: 'uUnion_1',
      expiresAt: NOW + 600,
    });
    // a hand-made token with the same claims verifies too: we speak standard JWT
    assert.equal(verifyToken(config, handMade({ alg: 'HS256', typ: 'JWT' }, goodClaims), NOW).openid, OPENID);
  });

  test('alg none is refused', () => {
    const head = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(goodClaims)}`;
    rejects(`${head}.`, 'invalid');
    rejects(jwt.sign(goodClaims, null as unknown as string, { algorithm: 'none' }), 'invalid');
  });

  test('RS256 and HS512 are refused even when correctly signed', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    rejects(jwt.sign(goodClaims, privateKey, { algorithm: 'RS256' }), 'invalid');
    rejects(handMade({ alg: 'HS512', typ: 'JWT' }, goodClaims, SECRET, 'sha512'), 'invalid');
    rejects(jwt.sign(goodClaims, createSecretKey(Buffer.from(SECRET)), { algorithm: 'HS384' }), 'invalid');
  });

  test('wrong secret, wrong iss, wrong aud, missing exp, bad sub, tampered payload', () => {
    rejects(handMade({ alg: 'HS256' }, goodClaims, randomBytes(32)), 'invalid');
    rejects(handMade({ alg: 'HS256' }, { ...goodClaims, iss: 'someone-else' }), 'invalid');
    rejects(handMade({ alg: 'HS256' }, { ...goodClaims, aud: 'wxffffffffffffffff' }), 'invalid');
    const { exp: _exp, ...noExp } = goodClaims;
    rejects(handMade({ alg: 'HS256' }, noExp), 'invalid');
    rejects(handMade({ alg: 'HS256' }, { ...goodClaims, sub: '' }), 'invalid');
    rejects(handMade({ alg: 'HS256' }, { ...goodClaims, sub: { $ne: null } }), 'invalid');
    const token = issueToken(config, { openid: OPENID }, NOW).token;
    const [h, , s] = token.split('.');
    rejects(`${h}.${b64url({ ...goodClaims, sub: 'oAttacker_000000' })}.${s}`, 'invalid');
  });

  test('expiry is enforced to the second', () => {
    const { token } = issueToken(config, { openid: OPENID }, NOW);
    assert.equal(verifyToken(config, token, NOW + 599).openid, OPENID);
    const err = rejects(token, 'expired', NOW + 600);
    assert.match(err.message, /expired; call login again/);
  });

  test('malformed input never reaches the JWT library', () => {
    rejects('', 'malformed');
    rejects('a.b', 'malformed');
    rejects('x'.repeat(5000) + '.a.b', 'malformed');
    rejects('a b.c.d', 'malformed');
  });
});

describe('caller identity', () => {
  const token = issueToken(config, { openid: OPENID }, NOW).token;
  const noJwt = () => {
    throw new Error('JWT config must not be read when the context identifies the caller');
  };

  test('context openid wins and does not need JWT config', () => {
    assert.deepEqual(
      resolveCaller({
        contextOpenid: 'oContext_123456',
        contextUnionid: 'u1',
        headers: { authorization: `Bearer ${token}` },
        jwt: noJwt,
      }),
      {
        openid: 'oContext_123456',
        unionid: 'u1',
        source: 'context',
      },
    );
  });

  test('without context: Bearer token, any header case', () => {
    for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
      assert.deepEqual(
        resolveCaller({ contextOpenid: '', headers: { [name]: `Bearer ${token}` }, jwt: config, now: NOW }),
        { openid: OPENID, source: 'token' },
      );
    }
    assert.equal(
      resolveCaller({ headers: { authorization: [`bearer ${token}`] }, jwt: () => config, now: NOW }).openid,
      OPENID,
    );
  });

  test('otherwise UNAUTHENTICATED with a message saying what to do', () => {
    for (const input of [{}, { headers: {} }, { contextOpenid: null, headers: { 'x-other': 'y' } }]) {
      assert.throws(
        () => resolveCaller({ ...input, jwt: config }),
        (err: unknown) =>
          err instanceof AuthError && err.reason === 'missing' && /call the login function/.test(err.message),
      );
    }
    assert.throws(
      () => resolveCaller({ headers: { authorization: `Basic ${token}` }, jwt: config }),
      (err: unknown) => err instanceof AuthError && err.reason === 'malformed',
    );
    assert.throws(
      () => resolveCaller({ headers: { authorization: `Bearer ${token}` }, jwt: config, now: NOW + 10_000 }),
      (err: unknown) => err instanceof AuthError && err.reason === 'expired',
    );
    assert.equal(bearerToken({ Authorization: 'Bearer abc.def.ghi' }), 'abc.def.ghi');
  });
});
