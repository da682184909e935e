import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../config/errors';
import { StorageError } from '../db/errors';
import { AppError, rateLimited } from '../domain/errors';
import {
  WxpayConfigError,
  WxpayRateLimitedError,
  WxpayUnavailableError,
  WxpayUpstreamError,
} from '../wxpay/errors';
import { fail, ok } from './envelope';
import { describeForLog } from '../log';
import { mapError } from './errors';
import { emptyResponse, isIntegrationEvent, jsonResponse, readTriggerEvent } from './trigger';

describe('trigger adapter', () => {
  it('decodes base64 bodies byte for byte and lower-cases headers', () => {
    const raw = Buffer.from('{"id":"x","note":"支付"}\n', 'utf8');
    const req = readTriggerEvent({
      path: '/pay/notify',
      httpMethod: 'post',
      headers: { 'Wechatpay-Serial': 'ABC', 'X-Multi': ['a', 'b'] },
      queryStringParameters: { a: '1' },
      body: raw.toString('base64'),
      isBase64Encoded: true,
    });
    assert.ok(req.rawBody.equals(raw));
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['wechatpay-serial'], 'ABC');
    assert.equal(req.headers['x-multi'], 'a, b');
    assert.deepEqual(req.query, { a: '1' });
  });
  it('keeps plain bodies as UTF-8 and tolerates missing fields', () => {
    assert.equal(readTriggerEvent({ body: 'abc', headers: {} }).rawBody.toString(), 'abc');
    const empty = readTriggerEvent(null);
    assert.equal(empty.rawBody.length, 0);
    assert.deepEqual(empty.headers, {});
    assert.equal(isIntegrationEvent({ httpMethod: 'POST', headers: {} }), true);
    assert.equal(isIntegrationEvent({ items: [] }), false);
  });
  it('builds platform responses', () => {
    assert.deepEqual(emptyResponse(), { statusCode: 204, headers: {}, body: '', isBase64Encoded: false });
    const r = jsonResponse(401, { code: 'FAIL', message: 'bad' });
    assert.equal(r.statusCode, 401);
    assert.deepEqual(JSON.parse(r.body), { code: 'FAIL', message: 'bad' });
  });
});

describe('error mapping', () => {
  it('keeps app errors and maps library errors to envelope codes', () => {
    assert.deepEqual(mapError(new AppError('NOT_FOUND', 'order not found')).error, {
      code: 'NOT_FOUND',
      message: 'order not found',
    });
    const up = mapError(new WxpayUpstreamError('refused', 400, 'ORDERPAID')).error;
    assert.equal(up.code, 'UPSTREAM_ERROR');
    assert.equal(up.upstream, 'ORDERPAID');
    assert.equal(
      mapError(new WxpayRateLimitedError('slow', 429, 'FREQUENCY_LIMITED')).error.code,
      'RATE_LIMITED',
    );
    assert.equal(mapError(new WxpayUnavailableError('t', 'timeout')).error.code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(
      mapError(new ConfigError('JWT_SECRET', 'JWT_SECRET is not set; add it')).error.code,
      'INTERNAL',
    );
    // a key problem is not WeChat being unavailable: retrying cannot fix it, the message says what will
    const keyProblem = mapError(
      new WxpayConfigError('WXPAY_APIV3_KEY must be exactly 32 bytes (it is 31)', 'WXPAY_APIV3_KEY'),
    );
    assert.equal(keyProblem.error.code, 'INTERNAL');
    assert.equal(keyProblem.error.message, 'server configuration error, see the function log');
    assert.doesNotMatch(keyProblem.error.message, /WXPAY_APIV3_KEY/, 'the variable is for the log only');
    assert.equal(keyProblem.serverSide, true, 'logged with its detail by the callable');
  });
  it("carries a per-user limit's wait in whole seconds, and is not a server-side error", () => {
    const mapped = mapError(rateLimited('too many payments; retry in 12 s', 11.2));
    assert.deepEqual(mapped.error, {
      code: 'RATE_LIMITED',
      message: 'too many payments; retry in 12 s',
      retryAfterSeconds: 12,
    });
    assert.equal(mapped.serverSide, false, 'the caller went too fast: no error log line');
    assert.equal(mapError(rateLimited('x', 0)).error.retryAfterSeconds, 1, 'never 0');
    assert.equal('retryAfterSeconds' in mapError(new AppError('CONFLICT', 'c')).error, false);
  });
  it('never passes unknown or storage details to the caller', () => {
    const secret = 'sk-very-secret-value';
    for (const err of [
      new Error(`boom ${secret}`),
      new StorageError('update orders', 'X', `detail ${secret}`),
      'str',
      null,
    ]) {
      const mapped = mapError(err).error;
      assert.equal(mapped.code, 'INTERNAL');
      assert.ok(!mapped.message.includes(secret));
      assert.ok(!/at .*\(.*:\d+:\d+\)/.test(mapped.message));
    }
    assert.ok(!describeForLog(new Error('x')).includes('\n'));
  });
  it('shapes the envelope', () => {
    assert.deepEqual(ok(1), { ok: true, data: 1 });
    assert.deepEqual(fail('CONFLICT', 'm'), { ok: false, error: { code: 'CONFLICT', message: 'm' } });
    assert.deepEqual(fail('UPSTREAM_ERROR', 'm', 'X'), {
      ok: false,
      error: { code: 'UPSTREAM_ERROR', message: 'm', upstream: 'X' },
    });
  });
});
