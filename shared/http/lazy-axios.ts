// axios pulls in form-data, mime-db, follow-redirects and proxy agents when it loads: tens of
// milliseconds of every cold start. A notification that needs no outbound call never pays for them;
// the clients load axios on their first request instead of at import.
import type { AxiosStatic } from 'axios';

let loaded: AxiosStatic | undefined;

export function loadAxios(): AxiosStatic {
  // require (not import): esbuild keeps the CommonJS build behind a wrapper that runs on this call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (see the line above)
  return (loaded ??= require('axios') as AxiosStatic);
}
