// The buffered exchange of the signed WeChat Pay calls, against a real server on 127.0.0.1: bytes
// both ways, every status answered, compressed answers decoded, and each way of failing without a
// whole answer reported with the code the clients map (timeout, size, cut off, refused).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { createServer, type Server } from 'node:http';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { exchange, ExchangeError, type ExchangeRequest } from './exchange';

let server: Server;
let base: string;
const agent = new Agent({ keepAlive: true });

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const json = JSON.stringify({ method: req.method, body, ua: req.headers['user-agent'] ?? null });
      switch (req.url) {
        case '/echo':
          return res.writeHead(200, { 'content-type': 'application/json' }).end(json);
        case '/refused':
          return res.writeHead(400, { 'request-id': 'r-1' }).end('{"code":"PARAM_ERROR"}');
        case '/gzip':
          return res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(json));
        case '/br':
          return res.writeHead(200, { 'content-encoding': 'br' }).end(brotliCompressSync(json));
        case '/big':
          return res.writeHead(200).end(Buffer.alloc(2048, 'x'));
        case '/slow':
          res.writeHead(200).write('{');
          return; // never ends
        case '/cut':
          res.writeHead(200, { 'content-length': '100' }).write('{"partial":');
          setTimeout(() => res.destroy(), 20);
          return;
        default:
          return res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(async () => {
  agent.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const req = (path: string, over: Partial<ExchangeRequest> = {}): ExchangeRequest => ({
  method: 'GET',
  url: new URL(path, base),
  headers: { 'User-Agent': 'exchange-test' },
  agent,
  timeoutMs: 2000,
  maxBytes: 1024,
  ...over,
});

test('sends its bytes and resolves with the status, headers and bytes of any answer', async () => {
  const r = await exchange(req('/echo', { method: 'POST', body: '{"a":"中"}' }));
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body.toString('utf8')), {
    method: 'POST',
    body: '{"a":"中"}',
    ua: 'exchange-test',
  });
  const refused = await exchange(req('/refused'));
  assert.equal(refused.status, 400);
  assert.equal(refused.headers['request-id'], 'r-1');
  assert.equal(refused.body.toString(), '{"code":"PARAM_ERROR"}');
});

test('a gzip or brotli answer is decoded and its content-encoding dropped', async () => {
  for (const path of ['/gzip', '/br']) {
    const r = await exchange(req(path));
    assert.equal(JSON.parse(r.body.toString('utf8')).method, 'GET', path);
    assert.equal(r.headers['content-encoding'], undefined, path);
  }
});

test('no whole answer: too big, too slow, cut off or refused, each with its code', async () => {
  const code = async (r: ExchangeRequest) => {
    const err = await exchange(r).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ExchangeError);
    return { code: err.code, name: err.name };
  };
  assert.deepEqual(await code(req('/big')), { code: 'ERR_BAD_RESPONSE', name: 'ExchangeError' });
  assert.deepEqual(await code(req('/slow', { timeoutMs: 100 })), { code: 'ETIMEDOUT', name: 'TimeoutError' });
  assert.deepEqual(await code(req('/cut')), { code: 'ECONNRESET', name: 'ExchangeError' });
  assert.deepEqual(await code(req('/echo', { url: new URL('http://127.0.0.1:9/echo') })), {
    code: 'ECONNREFUSED',
    name: 'ExchangeError',
  });
});
