// The platform's invocation context → the caller's WeChat identity. The platform puts WX_OPENID,
// WX_APPID, WX_UNIONID into the function's context (and environment, listed in WX_CONTEXT_KEYS) for
// wx.cloud.callFunction; @cloudbase/node-sdk's getCloudbaseContext reads both, exactly as
// wx-server-sdk's getWXContext does, so we use it rather than parse them ourselves.
import { loadCloudbaseSdk } from '../cloudbase-sdk';

export interface PlatformIdentity {
  openid?: string;
  appid?: string;
  unionid?: string;
}

type ContextReader = (context?: unknown) => Record<string, unknown>;

function reader(): ContextReader {
  return (loadCloudbaseSdk() as unknown as { getCloudbaseContext: ContextReader }).getCloudbaseContext;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function platformIdentity(context: unknown): PlatformIdentity {
  const read = reader();
  let values: Record<string, unknown>;
  try {
    values = context && typeof context === 'object' ? read(context) : read();
  } catch {
    // A context without environ/environment (e.g. a timer) is not an error: fall back to the environment.
    values = read();
  }
  const out: PlatformIdentity = {};
  const openid = text(values.WX_OPENID);
  const appid = text(values.WX_APPID);
  const unionid = text(values.WX_UNIONID);
  if (openid) out.openid = openid;
  if (appid) out.appid = appid;
  if (unionid) out.unionid = unionid;
  return out;
}
