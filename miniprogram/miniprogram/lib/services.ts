// Wires the client, the session and auth around one `wx`: the app builds this once with the real
// `wx`, the Node tests with the adapter.
import { API_BASE_URL, API_TRANSPORT } from '../config';
import { ApiClient, type ApiClientOptions } from './api-client';
import { Auth } from './auth';
import { SessionStore } from './session';
import { type Transport, cloudTransport, httpsTransport } from './transport';
import type { WxPort } from './wx-port';

/** `cloud`: wx.cloud.callFunction; `https`: wx.request to `<baseUrl>/api/<name>` with the session token. */
export type TransportChoice = { kind: 'cloud' } | { kind: 'https'; baseUrl: string; timeoutMs?: number };

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
  /** Default: API_TRANSPORT / API_BASE_URL of config.ts. */
  transport?: TransportChoice;
}

function configuredTransport(): TransportChoice {
  return API_TRANSPORT === 'https' ? { kind: 'https', baseUrl: API_BASE_URL } : { kind: 'cloud' };
}

export function createServices(wx: WxPort, options: ServiceOptions = {}): Services {
  const session = new SessionStore(wx, options.now);
  const choice = options.transport ?? configuredTransport();
  const transport: Transport =
    choice.kind === 'https'
      ? httpsTransport(wx, {
          baseUrl: choice.baseUrl,
          // The stored token even when close to expiry: the server decides, and UNAUTHENTICATED
          // makes Auth log in again once.
          token: () => session.load()?.token,
          ...(choice.timeoutMs !== undefined ? { timeoutMs: choice.timeoutMs } : {}),
        })
      : cloudTransport(wx.cloud);
  const api = new ApiClient(transport, options.client);
  return { wx, api, session, auth: new Auth(wx, api, session) };
}
