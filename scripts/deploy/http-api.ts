// The HTTPS API switch (README: HTTPS API): cloudbaserc.json lists the callables' HTTP access routes
// (/api/login, /api/createPayment, /api/orders, /api/refund, /api/account), and they are deployed only when .env sets
// HTTP_API=on. Off (the default) leaves the callables reachable through wx.cloud.callFunction only.
// Pure: the description and .env in, the description to deploy and the problems out.
import { parseCorsOrigins } from '../../shared/http/http-api';
import type { Cloudbaserc } from './cloudbaserc';

/** The callables and the paths the HTTPS API serves them at. */
export const HTTP_API_ROUTES = [
  { name: 'login', path: '/api/login' },
  { name: 'createPayment', path: '/api/createPayment' },
  { name: 'orders', path: '/api/orders' },
  { name: 'refund', path: '/api/refund' },
  { name: 'account', path: '/api/account' },
] as const;

const API_PREFIX = '/api/';

export function isHttpApiRoute(route: { path: string }): boolean {
  return route.path.startsWith(API_PREFIX);
}

/** HTTP_API: `on` or `off` (unset or empty means off). */
export function httpApiEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  return (env.HTTP_API ?? '').trim().toLowerCase() === 'on';
}

/** The description to deploy: without the /api/ routes unless HTTP_API=on. */
export function applyHttpApiSwitch(
  rc: Cloudbaserc,
  env: Readonly<Record<string, string | undefined>>,
): Cloudbaserc {
  if (httpApiEnabled(env) || !rc.httpAccess) return rc;
  return { ...rc, httpAccess: rc.httpAccess.filter((r) => !isHttpApiRoute(r)) };
}

/** Variables the HTTPS API adds to a callable (only when it is on): the browser origins for CORS. */
export function httpApiVariables(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const origins = (env.HTTP_API_CORS_ORIGINS ?? '').trim();
  if (!httpApiEnabled(env) || origins === '' || !HTTP_API_ROUTES.some((r) => r.name === name)) return {};
  return { HTTP_API_CORS_ORIGINS: origins };
}

/** HTTP_API's value, the routes it needs (checked against the full description), the CORS origins. */
export function httpApiProblems(
  fullRc: Cloudbaserc,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const raw = (env.HTTP_API ?? '').trim().toLowerCase();
  if (raw !== '' && raw !== 'on' && raw !== 'off')
    return ['HTTP_API must be "on" (deploy the HTTPS API routes /api/*) or "off" (the default)'];
  const out: string[] = [];
  const origins = (env.HTTP_API_CORS_ORIGINS ?? '').trim();
  if (raw !== 'on') {
    if (origins !== '')
      out.push(
        'HTTP_API_CORS_ORIGINS is set but HTTP_API is not "on"; set HTTP_API=on or remove HTTP_API_CORS_ORIGINS',
      );
    return out;
  }
  for (const { name, path } of HTTP_API_ROUTES) {
    if (!fullRc.httpAccess?.some((r) => r.name === name && r.path === path))
      out.push(
        `HTTP_API=on but cloudbaserc.json has no httpAccess route {"name": "${name}", "path": "${path}"}; add it`,
      );
  }
  const cors = parseCorsOrigins(origins);
  if (!cors.ok) out.push(cors.problem);
  return out;
}
