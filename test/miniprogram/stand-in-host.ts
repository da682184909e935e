// A tiny real HTTP server that answers like the function host and the simulator's phone-side
// endpoints, with scripted answers. Used only where the test is about the mini-program client
// itself (envelope, retries, session renewal) and the answer must be chosen exactly.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** Given the request body and how many calls to this function came before: the `result` (or an httpAnswer). */
export type Script = (body: Record<string, unknown>, callIndex: number) => unknown;

export interface StandInHost {
  url: string;
  seen: SeenRequest[];
  script(name: string, answer: Script): void;
  callsTo(name: string): SeenRequest[];
  close(): Promise<void>;
}

export const httpAnswer = (status: number, body: unknown) => ({ __http: true as const, status, body });

export async function startStandInHost(): Promise<StandInHost> {
  const scripts = new Map<string, Script>();
  const seen: SeenRequest[] = [];
  let codes = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        : {};
      seen.push({ path, headers: req.headers, body });
      const send = (status: number, value: unknown) => {
        const json = JSON.stringify(value);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(json),
        });
        res.end(json);
      };
      if (path === '/sim/login-codes')
        return send(200, { code: `code-${++codes}`, expiresAt: Date.now() + 300_000 });
      if (path === '/sim/pay') return send(200, { errMsg: 'requestPayment:ok' });
      const name = path.startsWith('/functions/') ? decodeURIComponent(path.slice('/functions/'.length)) : '';
      const script = scripts.get(name);
      if (!script)
        return send(404, { errCode: -501000, errMsg: `cloud.callFunction:fail no function ${name}` });
      const index = seen.filter((s) => s.path === path).length - 1;
      const answer = script(body, index) as { __http?: true; status: number; body: unknown } | null;
      if (answer?.__http) return send(answer.status, answer.body);
      send(200, { result: answer, requestId: `req-${seen.length}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    script: (name, answer) => void scripts.set(name, answer),
    callsTo: (name) => seen.filter((s) => s.path === `/functions/${name}`),
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
