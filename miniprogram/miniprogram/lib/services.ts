// Wires the client, the session and auth around one `wx`: the app builds this once with the real
// `wx`, the Node tests with the adapter.
import { ApiClient, type ApiClientOptions } from './api-client';
import { Auth } from './auth';
import { SessionStore } from './session';
import type { WxPort } from './wx-port';

export interface Services {
  wx: WxPort;
  api: ApiClient;
  session: SessionStore;
  auth: Auth;
}

export interface ServiceOptions {
  client?: ApiClientOptions;
  /** Unix milliseconds; the tests move it to expire sessions. */
  now?: () => number;
}

export function createServices(wx: WxPort, options: ServiceOptions = {}): Services {
  const api = new ApiClient(wx.cloud, options.client);
  const session = new SessionStore(wx, options.now);
  return { wx, api, session, auth: new Auth(wx, api, session) };
}
