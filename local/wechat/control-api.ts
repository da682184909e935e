// What every /sim/ control route shares: a table of [method, pattern, handler] whose handler returns
// [status, JSON body]; a ControlError answers its own status and message (the caller's mistake),
// anything else is logged and answered 500 — one adapter for the control, shipping and subscription
// tables.
import { parseJsonObject, sendJson, type Ctx, type Route } from './http';

export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type ControlHandler = (ctx: Ctx) => Promise<[number, unknown]> | [number, unknown];

/** The JSON object of a control request; an empty body is `{}`. */
export function controlBody(ctx: Ctx): Record<string, unknown> {
  if (ctx.body.trim() === '') return {};
  const b = parseJsonObject(ctx.body);
  if (!b) throw new ControlError(400, 'body must be a JSON object');
  return b;
}

/** `label` names the table in the log line of an unexpected failure. */
export function jsonControlRoutes(label: string, table: Array<[string, RegExp, ControlHandler]>): Route[] {
  return table.map(([method, pattern, fn]) => ({
    method,
    pattern,
    handler: async (ctx: Ctx) => {
      try {
        const [status, out] = await fn(ctx);
        sendJson(ctx.res, status, out);
      } catch (err) {
        if (err instanceof ControlError) return sendJson(ctx.res, err.status, { error: err.message });
        console.error(`[wechat-sim] ${label} failed:`, err);
        sendJson(ctx.res, 500, { error: 'internal simulator error' });
      }
    },
  }));
}
