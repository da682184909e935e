// HTTPS: `POST <base><path>?access_token=` with WeChat's JSON body. The token is in the URL, so no
// error from the exchange is passed on as is (post-json.ts); failures are rebuilt from the errcode
// or their class.
import { postJson } from './post-json';

export type HttpsAnswer = { errcode: number; errmsg?: unknown; body: Record<string, unknown> };

export async function httpsCall(
  baseUrl: string,
  path: string,
  accessToken: string,
  body: Record<string, unknown>,
  timeoutMs = 8_000,
): Promise<HttpsAnswer> {
  const answer = await postJson(`${baseUrl}${path}?access_token=${encodeURIComponent(accessToken)}`, body, {
    what: path,
    timeoutMs,
    maxBytes: 1024 * 1024,
  });
  const { errcode, errmsg, ...rest } = answer;
  return { errcode: typeof errcode === 'number' ? errcode : 0, errmsg, body: rest };
}
