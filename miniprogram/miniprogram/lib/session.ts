// The signed-in state kept in the phone's storage across launches.
import type { LoginResponse } from '../types/api';
import type { WxPort } from './wx-port';

export const SESSION_STORAGE_KEY = 'wxcloud-pay:session';

export interface Session {
  token: string;
  /** Unix seconds, as the login function returns it. */
  expiresAt: number;
  user: LoginResponse['user'];
}

type Storage = Pick<WxPort, 'getStorageSync' | 'setStorageSync' | 'removeStorageSync'>;

export class SessionStore {
  constructor(
    private readonly storage: Storage,
    /** Unix milliseconds. */
    private readonly now: () => number = Date.now,
    /** Renew this long before the token runs out so that a call never starts with a dying token. */
    private readonly renewBeforeSeconds = 60,
  ) {}

  load(): Session | null {
    const stored = this.storage.getStorageSync(SESSION_STORAGE_KEY);
    return isSession(stored) ? stored : null;
  }

  /** The stored session if it is still valid for a while, else null. */
  current(): Session | null {
    const session = this.load();
    if (!session) return null;
    return session.expiresAt - this.renewBeforeSeconds > this.now() / 1000 ? session : null;
  }

  save(login: LoginResponse): Session {
    const session: Session = { token: login.token, expiresAt: login.expiresAt, user: login.user };
    this.storage.setStorageSync(SESSION_STORAGE_KEY, session);
    return session;
  }

  clear(): void {
    this.storage.removeStorageSync(SESSION_STORAGE_KEY);
  }
}

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Session>;
  return (
    typeof v.token === 'string' &&
    typeof v.expiresAt === 'number' &&
    typeof v.user === 'object' &&
    v.user !== null &&
    typeof v.user.openid === 'string'
  );
}
