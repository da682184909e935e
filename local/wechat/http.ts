// Minimal HTTP plumbing: raw bodies (signatures cover the exact bytes), a route table, JSON answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody as readRawBody } from '../net/http';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The request target exactly as sent (path and query): what v3 signatures cover. */
  target: string;
  url: URL;
  body: string;
  params: string[];
}

export type Handler = (ctx: Ctx) => Promise<void> | void;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export { BodyTooLarge, sendJson, sendText } from '../net/http';

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRawBody(req, MAX_BODY_BYTES)).toString('utf8');
}

/** Holds a request without answering, as an overloaded upstream does, until the client gives up. */
export function hang(ctx: Ctx, maxMs = 120_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ctx.res.destroy();
      resolve();
    }, maxMs);
    ctx.res.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
