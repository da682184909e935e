// Delivers notifications to merchants' notify URLs the way WeChat Pay does: an HTTP POST, success
// = a 2xx answer within 5 s (v2: plus the SUCCESS acknowledgement), otherwise retried on WeChat's
// schedule (divided by the clock's timeScale). Every attempt and answer is kept for `/sim/deliveries`.
import { EventEmitter } from 'node:events';
import { randomUUID, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SimClock } from './clock';
import type { FaultRegistry } from './faults';
import { isLoopbackHost } from './loopback';
import type { ResponseSigner } from './signer';
import { parseFlatXml } from './xml';

/** Seconds between attempts after the first: 15s,15s,30s,3m,10m,20m,30m,30m,30m,60m,3h,3h,3h,6h,6h. */
export const RETRY_SCHEDULE_SECONDS = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];
export const DELIVERY_TIMEOUT_MS = 5000;
const ANSWER_KEEP_CHARS = 500;
const REORDER_HOLD_MAX_MS = 2000;

export interface Attempt {
  at: string;
  status: number;
  durationMs: number;
  /** Network error, timeout, or the fault that shaped this attempt. */
  error?: string;
  answer?: string;
  kind: 'scheduled' | 'replay' | 'duplicate' | 'signtest';
  serial?: string;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface Delivery {
  id: string;
  eventType: string;
  url: string;
  apiVersion: 'v3' | 'v2';
  outTradeNo?: string;
  outRefundNo?: string;
  state: DeliveryState;
  attempts: Attempt[];
  nextAttemptAt?: string;
  createdAt: string;
  /** The notification as sent (v3 JSON envelope or v2 XML); identical on every attempt. */
  body: string;
}

export interface NewDelivery {
  eventType: string;
  url: string;
  apiVersion: 'v3' | 'v2';
  outTradeNo?: string;
  outRefundNo?: string;
  body: string;
}

interface Internal extends Delivery {
  cancelNext?: () => void;
}

export class Notifier {
  private deliveries = new Map<string, Internal>();
  private held: Array<() => void> = [];
  private inFlight = new Set<{ abort(): void }>();
  private closed = false;

  constructor(
    private readonly clock: SimClock,
    private readonly signer: ResponseSigner,
    private readonly faults: FaultRegistry,
    private readonly events: EventEmitter,
  ) {}

  enqueue(input: NewDelivery): Delivery {
    const d: Internal = {
      id: randomUUID(),
      ...input,
      state: 'pending',
      attempts: [],
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    this.deliveries.set(d.id, d);
    this.emit(d);
    void this.attempt(d, 'scheduled');
    return this.view(d);
  }

  list(filter: { outTradeNo?: string; outRefundNo?: string } = {}): Delivery[] {
    return [...this.deliveries.values()]
      .filter(
        (d) =>
          (!filter.outTradeNo || d.outTradeNo === filter.outTradeNo) &&
          (!filter.outRefundNo || d.outRefundNo === filter.outRefundNo),
      )
      .map((d) => this.view(d));
  }

  get(id: string): Delivery | undefined {
    const d = this.deliveries.get(id);
    return d && this.view(d);
  }

  /** Sends the notification once more now, outside the schedule; a success ends the retries. */
  async replay(id: string): Promise<Delivery | undefined> {
    const d = this.deliveries.get(id);
    if (!d) return undefined;
    await this.attempt(d, 'replay');
    return this.view(d);
  }

  reset(): void {
    for (const d of this.deliveries.values()) d.cancelNext?.();
    this.deliveries.clear();
    for (const release of this.held.splice(0)) release();
  }

  close(): void {
    this.closed = true;
    this.reset();
    for (const r of this.inFlight) r.abort();
  }

  private view(d: Internal): Delivery {
    const { cancelNext: _cancel, ...rest } = d;
    return { ...rest, attempts: d.attempts.map((a) => ({ ...a })) };
  }

  private emit(d: Internal): void {
    this.events.emit('delivery', this.view(d));
  }

  private async attempt(d: Internal, kind: 'scheduled' | 'replay'): Promise<void> {
    if (this.closed) return;
    if (kind === 'scheduled') {
      const fault = this.faults.take('notify');
      if (fault?.kind === 'drop') {
        this.record(d, {
          at: new Date(this.clock.now()).toISOString(),
          status: 0,
          durationMs: 0,
          error: 'dropped (fault: drop)',
          kind,
        });
        return this.afterFailure(d);
      }
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.delayMs ?? 0));
      if (fault?.kind === 'reorder') {
        // Hold this one until the next notification has gone out (bounded, so nothing hangs).
        await new Promise<void>((release) => {
          const timer = setTimeout(() => {
            this.held = this.held.filter((h) => h !== done);
            release();
          }, REORDER_HOLD_MAX_MS);
          const done = () => {
            clearTimeout(timer);
            release();
          };
          this.held.push(done);
        });
      }
      if (this.closed || d.state === 'delivered' || !this.deliveries.has(d.id)) return;
      if (fault?.kind === 'signtest') {
        await this.send(d, 'signtest');
      }
      if (fault?.kind === 'duplicate') {
        const copies = Array.from({ length: fault.count }, () => this.send(d, 'duplicate'));
        const results = await Promise.all([this.send(d, kind), ...copies]);
        this.releaseHeld();
        return results.some(Boolean) ? this.delivered(d) : this.afterFailure(d);
      }
    }
    const ok = await this.send(d, kind);
    if (kind === 'scheduled') this.releaseHeld();
    if (ok) this.delivered(d);
    else if (kind === 'scheduled') this.afterFailure(d);
  }

  private releaseHeld(): void {
    const held = this.held.splice(0);
    if (held.length) setTimeout(() => held.forEach((h) => h()), 10);
  }

  private delivered(d: Internal): void {
    d.cancelNext?.();
    d.cancelNext = undefined;
    d.nextAttemptAt = undefined;
    d.state = 'delivered';
    this.emit(d);
  }

  private afterFailure(d: Internal): void {
    if (d.state === 'delivered' || this.closed || !this.deliveries.has(d.id)) return;
    const scheduled = d.attempts.filter((a) => a.kind === 'scheduled').length;
    const delayS = RETRY_SCHEDULE_SECONDS[scheduled - 1];
    if (delayS === undefined) {
      d.state = 'failed';
      d.nextAttemptAt = undefined;
      this.emit(d);
      return;
    }
    d.cancelNext?.();
    const job = this.clock.schedule(delayS * 1000, () => {
      d.cancelNext = undefined;
      void this.attempt(d, 'scheduled');
    });
    d.cancelNext = () => job.cancel();
    d.nextAttemptAt = new Date(job.dueAt).toISOString();
    this.emit(d);
  }

  private record(d: Internal, a: Attempt): void {
    d.attempts.push(a);
    this.events.emit('attempt', {
      deliveryId: d.id,
      eventType: d.eventType,
      outTradeNo: d.outTradeNo,
      outRefundNo: d.outRefundNo,
      ...a,
    });
    this.emit(d);
  }

  /** One HTTP POST; true when the merchant acknowledged. */
  private async send(d: Internal, kind: Attempt['kind']): Promise<boolean> {
    const at = new Date(this.clock.now()).toISOString();
    const started = Date.now();
    let url: URL;
    try {
      url = new URL(d.url);
    } catch {
      this.record(d, { at, status: 0, durationMs: 0, error: 'invalid notify URL', kind });
      return false;
    }
    if (!isLoopbackHost(url.hostname)) {
      // Checked at order time too; this is the last guard that nothing leaves the machine.
      this.record(d, {
        at,
        status: 0,
        durationMs: 0,
        error: `refused: ${url.hostname} is not a loopback address`,
        kind,
      });
      return false;
    }
    const headers: Record<string, string> = {
      'Content-Type': d.apiVersion === 'v3' ? 'application/json' : 'text/xml',
      'User-Agent': 'Mozilla/4.0',
      Accept: '*/*',
    };
    let serial: string | undefined;
    if (d.apiVersion === 'v3') {
      const sig = this.signer.sign(d.body, 'notification');
      if (kind === 'signtest')
        sig['Wechatpay-Signature'] = `WECHATPAY/SIGNTEST/${randomBytes(96).toString('base64')}`;
      Object.assign(headers, sig);
      serial = sig['Wechatpay-Serial'];
    }
    const result = await this.post(url, headers, d.body);
    const durationMs = Date.now() - started;
    const ok =
      kind !== 'signtest' &&
      result.status >= 200 &&
      result.status < 300 &&
      (d.apiVersion === 'v3' || v2Acknowledged(result.answer));
    this.record(d, {
      at,
      status: result.status,
      durationMs,
      kind,
      ...(result.error ? { error: result.error } : {}),
      ...(result.answer ? { answer: result.answer.slice(0, ANSWER_KEEP_CHARS) } : {}),
      ...(serial ? { serial } : {}),
    });
    return ok;
  }

  private post(
    url: URL,
    headers: Record<string, string>,
    body: string,
  ): Promise<{ status: number; answer?: string; error?: string }> {
    return new Promise((resolve) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const payload = Buffer.from(body, 'utf8');
      let settled = false;
      const finish = (r: { status: number; answer?: string; error?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(handle);
        resolve(r);
      };
      const req = send(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'Content-Length': String(payload.length) },
          agent: false,
          rejectUnauthorized: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= 64 * 1024) chunks.push(c);
          });
          res.on('end', () =>
            finish({ status: res.statusCode ?? 0, answer: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', (err) => finish({ status: res.statusCode ?? 0, error: err.message }));
        },
      );
      const handle = { abort: () => req.destroy(new Error('simulator closed')) };
      this.inFlight.add(handle);
      const timer = setTimeout(() => {
        finish({ status: 0, error: `no answer within ${DELIVERY_TIMEOUT_MS} ms` });
        req.destroy();
      }, DELIVERY_TIMEOUT_MS);
      req.on('error', (err) => finish({ status: 0, error: err.message }));
      req.end(payload);
    });
  }
}

function v2Acknowledged(answer: string | undefined): boolean {
  if (!answer) return false;
  try {
    return parseFlatXml(answer).return_code === 'SUCCESS';
  } catch {
    return false;
  }
}
