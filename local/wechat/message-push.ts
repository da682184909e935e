// WeChat's message push (消息推送) to the mini-program's server, JSON format, plaintext mode: a POST
// to the configured URL with `?signature=&timestamp=&nonce=` where signature = sha1 of the sorted
// [token, timestamp, nonce]. Success is HTTP 200 (body `success` or empty) within 5 s; otherwise
// WeChat tries again, three times in all. Only loopback URLs are contacted.
import { createHash, randomBytes } from 'node:crypto';
import type { SimClock } from './clock';
import { isLoopbackHost } from './loopback';

export interface MessagePushTarget {
  url: string;
  token: string;
}

export interface PushAttempt {
  at: string;
  status?: number;
  error?: string;
}

export interface PushDelivery {
  id: string;
  event: string;
  outTradeNo?: string;
  message: Record<string, unknown>;
  attempts: PushAttempt[];
  status: 'pending' | 'delivered' | 'failed';
}

export const PUSH_ATTEMPTS = 3;
const RETRY_DELAYS_MS = [1000, 2000];

export function pushSignature(token: string, timestamp: string, nonce: string): string {
  return createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
}

/** Why `url` cannot receive message pushes here, or undefined when it can. */
export function pushUrlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string') return 'url must be a string';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'url is not a valid URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'url must be http(s)';
  if (!isLoopbackHost(u.hostname))
    return `the simulator pushes messages to loopback hosts only (127.0.0.0/8, localhost, ::1), not ${u.hostname}`;
  return undefined;
}

export class MessagePusher {
  target: MessagePushTarget | undefined;
  readonly deliveries: PushDelivery[] = [];
  private nextId = 1;

  constructor(private readonly clock: SimClock) {}

  /** Queues one push; resolves when it was delivered or gave up (callers need not wait). */
  push(event: string, message: Record<string, unknown>, outTradeNo?: string): PushDelivery {
    const delivery: PushDelivery = {
      id: `push-${this.nextId++}`,
      event,
      ...(outTradeNo ? { outTradeNo } : {}),
      message,
      attempts: [],
      status: 'pending',
    };
    this.deliveries.push(delivery);
    if (this.deliveries.length > 500) this.deliveries.shift();
    void this.attempt(delivery, 0);
    return delivery;
  }

  private async attempt(delivery: PushDelivery, n: number): Promise<void> {
    const target = this.target;
    const record: PushAttempt = { at: new Date(this.clock.now()).toISOString() };
    delivery.attempts.push(record);
    if (!target) {
      record.error = 'no message-push URL configured (POST /sim/message-push {url, token})';
      delivery.status = 'failed';
      return;
    }
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(8).toString('hex');
    const url = new URL(target.url);
    url.searchParams.set('signature', pushSignature(target.token, timestamp, nonce));
    url.searchParams.set('timestamp', timestamp);
    url.searchParams.set('nonce', nonce);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(delivery.message),
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      record.status = res.status;
      if (res.status === 200 && (text === '' || text === 'success')) {
        delivery.status = 'delivered';
        return;
      }
    } catch (err) {
      record.error = (err as Error).message;
    }
    if (n + 1 >= PUSH_ATTEMPTS) {
      delivery.status = 'failed';
      return;
    }
    this.clock.schedule(RETRY_DELAYS_MS[n], () => void this.attempt(delivery, n + 1));
  }

  list(outTradeNo?: string): PushDelivery[] {
    return this.deliveries.filter((d) => !outTradeNo || d.outTradeNo === outTradeNo);
  }

  clear(): void {
    this.deliveries.length = 0;
  }
}
