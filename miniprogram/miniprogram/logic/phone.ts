// Binding the user's phone number: `<button open-type="getPhoneNumber">` hands the page a one-use
// code (or nothing, when the user declines); the account callable exchanges it on the server. What a
// page shows is the masked number (138****0000) and one sentence per outcome.
import type { PhoneView } from '../types/api';
import { ApiCallError } from '../lib/api-client';
import type { ApiClient } from '../lib/api-client';
import type { Auth } from '../lib/auth';
import { userMessage } from '../lib/error-messages';

/** `e.detail` of the bindgetphonenumber event. */
export interface PhoneNumberDetail {
  code?: string;
  errMsg?: string;
}

export type BindOutcome =
  | { kind: 'bound'; phone: PhoneView; message: string }
  | { kind: 'declined'; message: string }
  | { kind: 'failed'; message: string };

const DECLINED = '未授权手机号，可随时再点按钮绑定';

/** The sentence for a failed bind: a spent or expired code only needs another tap. */
export function bindFailureMessage(error: unknown): string {
  if (!(error instanceof ApiCallError)) return userMessage('INTERNAL');
  switch (error.code) {
    case 'INVALID_ARGUMENT':
      return '手机号验证已失效，请再点一次按钮';
    case 'RATE_LIMITED':
      return '手机号验证暂不可用，请稍后再试';
    case 'UPSTREAM_UNAVAILABLE':
    case 'NETWORK':
      return '微信繁忙，请稍后再点一次按钮';
    case 'NOT_FOUND':
      return '请先登录后再绑定手机号';
    default:
      return error.userMessage;
  }
}

export class PhoneBinding {
  phone: PhoneView | null = null;

  constructor(
    private readonly api: ApiClient,
    private readonly auth: Auth,
  ) {}

  /** The number bound so far (null when none). */
  async load(): Promise<PhoneView | null> {
    this.phone = (await this.auth.withSession(() => this.api.getPhone())).phone;
    return this.phone;
  }

  /** Handles the button's event: no code means the user declined, and nothing is sent. */
  async bind(detail: PhoneNumberDetail | undefined): Promise<BindOutcome> {
    const code = detail?.code;
    if (typeof code !== 'string' || code === '') return { kind: 'declined', message: DECLINED };
    try {
      const { phone } = await this.auth.withSession(() => this.api.bindPhone(code));
      if (!phone) return { kind: 'failed', message: userMessage('INTERNAL') };
      this.phone = phone;
      return { kind: 'bound', phone, message: `已绑定 ${phone.masked}` };
    } catch (error) {
      return { kind: 'failed', message: bindFailureMessage(error) };
    }
  }
}

/** What the account area shows. */
export function phoneLabel(phone: PhoneView | null): string {
  return phone ? phone.masked : '';
}
