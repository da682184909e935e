// Typed calls to the cloud functions over a transport (wx.cloud.callFunction, or wx.request to the
// HTTPS API: lib/transport.ts): unwraps the result envelope, turns every failure into an ApiCallError
// carrying a user-facing message, and retries what is safe to retry.
import type {
  AccountResponse,
  ApiError,
  CreatePaymentRequest,
  CreatePaymentResponse,
  ErrorCode,
  LoginRequest,
  LoginResponse,
  OrdersCloseResponse,
  OrdersGetResponse,
  OrdersListResponse,
  RefundRequest,
  RefundResponse,
} from '../types/api';
import { type ClientErrorCode, userMessageFor } from './error-messages';
import { DEFAULT_RETRY, type RetryPolicy, backoffDelay, sleep as realSleep } from './retry';
import { type Transport, cloudTransport } from './transport';
import { type CloudPort, failureMessage } from './wx-port';

const ERROR_CODES: readonly ErrorCode[] = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'UPSTREAM_ERROR',
  'UPSTREAM_UNAVAILABLE',
  'INTERNAL',
];

/** The server says nothing happened and asks to come back later. */
const RETRYABLE_CODES: ReadonlySet<ClientErrorCode> = new Set<ClientErrorCode>([
  'UPSTREAM_UNAVAILABLE',
  'RATE_LIMITED',
]);

export class ApiCallError extends Error {
  readonly code: ClientErrorCode;
  /** What the page shows. */
  readonly userMessage: string;
  readonly upstream: string | undefined;
  /** Attempts made before giving up (1 when not retried). */
  readonly attempts: number;
  /** RATE_LIMITED by a per-user limit: whole seconds before the same call can succeed. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ClientErrorCode,
    detail: string,
    attempts: number,
    upstream?: string,
    retryAfterSeconds?: number,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'ApiCallError';
    this.code = code;
    this.upstream = upstream;
    this.retryAfterSeconds = retryAfterSeconds;
    this.userMessage = userMessageFor(code, upstream, retryAfterSeconds);
    this.attempts = attempts;
  }
}

/**
 * `idempotent`: a lost response may be retried (the call has no effect, or carries a key that makes
 * a repeat return the first result). `once`: only retried when the function itself answered with a
 * retryable code, because a transport failure leaves unknown whether it ran (refunds).
 */
export type RetryMode = 'idempotent' | 'once';

export interface CallAttempt {
  name: string;
  attempt: number;
  outcome: 'ok' | ClientErrorCode;
}

export interface ApiClientOptions {
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Observes every attempt (logging, tests). */
  onAttempt?: (attempt: CallAttempt) => void;
}

export class ApiClient {
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onAttempt: ((attempt: CallAttempt) => void) | undefined;
  private readonly transport: Transport;

  /** `wx.cloud` (callFunction) or any transport. */
  constructor(transport: Transport | CloudPort, options: ApiClientOptions = {}) {
    this.transport = 'callFunction' in transport ? cloudTransport(transport) : transport;
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.onAttempt = options.onAttempt;
  }

  /**
   * With wx.cloud the identity comes from the call's context, so repeating a login is harmless. Over
   * HTTPS the code names the caller and WeChat accepts a code once: a retry needs `renewCode` (a new
   * wx.login), and without it the login is not retried after a lost answer.
   */
  login(request: LoginRequest, renewCode?: () => Promise<string>): Promise<LoginResponse> {
    if (this.transport.identity === 'context')
      return this.call<LoginResponse>('login', request, 'idempotent');
    if (!renewCode) return this.call<LoginResponse>('login', request, 'once');
    return this.call<LoginResponse>('login', request, 'idempotent', async () => ({
      ...request,
      code: await renewCode(),
    }));
  }

  createPayment(request: CreatePaymentRequest): Promise<CreatePaymentResponse> {
    return this.call<CreatePaymentResponse>(
      'createPayment',
      request,
      request.idempotencyKey ? 'idempotent' : 'once',
    );
  }

  getOrder(orderId: string): Promise<OrdersGetResponse> {
    return this.call<OrdersGetResponse>('orders', { action: 'get', orderId }, 'idempotent');
  }

  listOrders(page: { pageSize?: number; before?: string } = {}): Promise<OrdersListResponse> {
    return this.call<OrdersListResponse>('orders', { action: 'list', ...page }, 'idempotent');
  }

  closeOrder(orderId: string): Promise<OrdersCloseResponse> {
    return this.call<OrdersCloseResponse>('orders', { action: 'close', orderId }, 'idempotent');
  }

  refund(request: RefundRequest): Promise<RefundResponse> {
    return this.call<RefundResponse>('refund', request, 'once');
  }

  /** WeChat accepts a phone code once: after a lost answer a repeat could only be refused. */
  bindPhone(code: string): Promise<AccountResponse> {
    return this.call<AccountResponse>('account', { action: 'bindPhone', code }, 'once');
  }

  getPhone(): Promise<AccountResponse> {
    return this.call<AccountResponse>('account', { action: 'getPhone' }, 'idempotent');
  }

  /** `retryData`: what a retry sends instead of `data` (e.g. login with a new code). */
  private async call<T>(
    name: string,
    data: object,
    mode: RetryMode,
    retryData?: () => Promise<object>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let failure: ApiCallError;
      try {
        const payload = attempt > 1 && retryData ? await retryData() : data;
        const value = await this.invoke<T>(name, payload, attempt);
        this.onAttempt?.({ name, attempt, outcome: 'ok' });
        return value;
      } catch (error) {
        if (!(error instanceof ApiCallError)) throw error;
        failure = error;
      }
      this.onAttempt?.({ name, attempt, outcome: failure.code });
      const retryable =
        RETRYABLE_CODES.has(failure.code) || (failure.code === 'NETWORK' && mode === 'idempotent');
      if (!retryable || attempt >= this.policy.attempts) throw failure;
      // A limit that names its wait is waited out when that is short, else shown to the user at once:
      // an earlier retry is refused again.
      const waitMs = (failure.retryAfterSeconds ?? 0) * 1000;
      if (waitMs > this.policy.maxDelayMs) throw failure;
      await this.sleep(Math.max(waitMs, backoffDelay(this.policy, attempt, this.random)));
    }
  }

  private async invoke<T>(name: string, data: object, attempt: number): Promise<T> {
    let result: unknown;
    try {
      result = await this.transport.call(name, { ...data });
    } catch (reason) {
      throw new ApiCallError('NETWORK', failureMessage(reason), attempt);
    }
    return unwrapEnvelope<T>(result, attempt);
  }
}

/** `{ ok: true, data }` → data; `{ ok: false, error }` → ApiCallError; anything else is INTERNAL. */
export function unwrapEnvelope<T>(result: unknown, attempts = 1): T {
  if (!isRecord(result) || typeof result.ok !== 'boolean') {
    throw new ApiCallError('INTERNAL', 'the function did not answer with a result envelope', attempts);
  }
  if (result.ok) return result.data as T;
  const error = isRecord(result.error) ? (result.error as Partial<ApiError>) : {};
  const code = ERROR_CODES.includes(error.code as ErrorCode) ? (error.code as ErrorCode) : 'INTERNAL';
  const upstream = typeof error.upstream === 'string' ? error.upstream : undefined;
  const wait = error.retryAfterSeconds;
  const retryAfterSeconds =
    code === 'RATE_LIMITED' &&
    typeof wait === 'number' &&
    Number.isInteger(wait) &&
    wait >= 1 &&
    wait <= 86_400
      ? wait
      : undefined;
  throw new ApiCallError(
    code,
    typeof error.message === 'string' ? error.message : 'no message',
    attempts,
    upstream,
    retryAfterSeconds,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
