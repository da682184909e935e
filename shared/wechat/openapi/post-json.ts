// One POST of a JSON body to WeChat's server API, answering the JSON object WeChat sent back. The
// URL or body may carry a token or the app secret, so nothing from the exchange (axios errors hold
// their config) is passed on: every failure is rebuilt as "unavailable" naming only `what`.
import { loadAxios } from '../../http/lazy-axios';
import { unavailable } from './errors';

export async function postJson(
  url: string,
  body: Record<string, unknown>,
  opts: { what: string; timeoutMs: number; maxBytes: number },
): Promise<Record<string, unknown>> {
  let status: number;
  let data: unknown;
  try {
    const res = await loadAxios().post<string>(url, JSON.stringify(body), {
      headers: { 'content-type': 'application/json' },
      timeout: opts.timeoutMs,
      signal: AbortSignal.timeout(opts.timeoutMs),
      responseType: 'text',
      transformResponse: (d: unknown) => d,
      validateStatus: () => true,
      maxContentLength: opts.maxBytes,
      maxRedirects: 0,
      proxy: false,
    });
    status = res.status;
    data = res.data;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw unavailable(opts.what, typeof code === 'string' ? code : 'network error');
  }
  if (status !== 200) throw unavailable(opts.what, `HTTP ${status}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(data));
  } catch {
    throw unavailable(opts.what, 'the answer is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw unavailable(opts.what, 'unexpected answer');
  return parsed as Record<string, unknown>;
}
