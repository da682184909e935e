// HTTPS: `POST <base><path>?access_token=` with WeChat's JSON body. The token is in the URL, so no
// error from the exchange is passed on as is; failures are rebuilt from the errcode or their class.
import { loadAxios } from '../../http/lazy-axios';
import { unavailable } from './errors';

export type HttpsAnswer = { errcode: number; errmsg?: unknown; body: Record<string, unknown> };

export async function httpsCall(
  baseUrl: string,
  path: string,
  accessToken: string,
  body: Record<string, unknown>,
  timeoutMs = 8_000,
): Promise<HttpsAnswer> {
  let status: number;
  let data: unknown;
  try {
    const res = await loadAxios().post<string>(
      `${baseUrl}${path}?access_token=${encodeURIComponent(accessToken)}`,
      JSON.stringify(body),
      {
        headers: { 'content-type': 'application/json' },
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
        responseType: 'text',
        transformResponse: (d: unknown) => d,
        validateStatus: () => true,
        maxContentLength: 1024 * 1024,
        maxRedirects: 0,
        proxy: false,
      },
    );
    status = res.status;
    data = res.data;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw unavailable(path, typeof code === 'string' ? code : 'network error');
  }
  if (status !== 200) throw unavailable(path, `HTTP ${status}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(data));
  } catch {
    throw unavailable(path, 'the answer is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw unavailable(path, 'unexpected answer');
  const { errcode, errmsg, ...rest } = parsed as Record<string, unknown>;
  return { errcode: typeof errcode === 'number' ? errcode : 0, errmsg, body: rest };
}
