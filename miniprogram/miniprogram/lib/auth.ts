// Silent login and session renewal. Every call that needs a signed-in user goes through
// `withSession`, which logs in first when the stored session is missing or expired and logs in again
// once when a function answers UNAUTHENTICATED.
import type { LoginRequest } from '../types/api';
import { ApiCallError, type ApiClient } from './api-client';
import type { Session, SessionStore } from './session';
import { type WxPort, failureMessage } from './wx-port';

export interface SignInResult {
  session: Session;
  /** True when the stored session was still valid and no login call was made. */
  fromStorage: boolean;
}

export class Auth {
  private inFlight: Promise<Session> | null = null;

  constructor(
    private readonly wx: Pick<WxPort, 'login'>,
    private readonly api: ApiClient,
    private readonly store: SessionStore,
  ) {}

  /** On launch: reuse the stored session, or log in without asking the user anything. */
  async signIn(): Promise<SignInResult> {
    const stored = this.store.current();
    if (stored) return { session: stored, fromStorage: true };
    return { session: await this.login(), fromStorage: false };
  }

  /** Optional profile (nickname, avatar) chosen by the user; sent with a fresh login. */
  updateProfile(profile: NonNullable<LoginRequest['profile']>): Promise<Session> {
    return this.login(profile);
  }

  signOut(): void {
    this.store.clear();
  }

  async withSession<T>(action: () => Promise<T>): Promise<T> {
    if (!this.store.current()) await this.login();
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ApiCallError) || error.code !== 'UNAUTHENTICATED') throw error;
      this.store.clear();
      await this.login();
      return action();
    }
  }

  /** Concurrent callers share one login instead of spending several wx.login codes. */
  private login(profile?: LoginRequest['profile']): Promise<Session> {
    if (!this.inFlight || profile) {
      const attempt = this.loginOnce(profile).finally(() => {
        if (this.inFlight === attempt) this.inFlight = null;
      });
      this.inFlight = attempt;
    }
    return this.inFlight;
  }

  private async loginOnce(profile?: LoginRequest['profile']): Promise<Session> {
    const code = await this.newCode();
    const request: LoginRequest = profile ? { code, profile } : { code };
    // A retried login (over HTTPS) needs a new code: WeChat accepts each code once.
    return this.store.save(await this.api.login(request, () => this.newCode()));
  }

  private async newCode(): Promise<string> {
    try {
      return (await this.wx.login()).code;
    } catch (reason) {
      throw new ApiCallError('NETWORK', failureMessage(reason), 1);
    }
  }
}
