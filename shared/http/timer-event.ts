// The platform's timer trigger event. CloudBase invokes a timer with `{Type:'Timer', TriggerName,
// Time, Message?}` (the SCF timer event, Tencent Cloud 云函数 "触发器事件消息结构":
// cloud.tencent.cn/document/product/583/31927), no caller identity, and TCB_SOURCE `scf` in the context; a client's callFunction carries its
// own source (`wx_client`, web, HTTP access), so the event shape alone, which any caller can send as
// data, is not enough.

const CLIENT_SOURCE = /^(wx_|web|tcb_web|http)/i;

function sourceOf(context: unknown): string | undefined {
  const environ = (context as { environ?: unknown } | null | undefined)?.environ;
  if (typeof environ !== 'string') return undefined;
  const m = /(?:^|;)TCB_SOURCE=([^;]*)/.exec(environ);
  return m?.[1];
}

/** True for the platform's own timer invocation, never for data a client sends. */
export function isTimerInvocation(event: unknown, context: unknown, openid: string | undefined): boolean {
  if (openid) return false;
  const e = event as { Type?: unknown; TriggerName?: unknown; Time?: unknown } | null;
  if (!e || typeof e !== 'object' || e.Type !== 'Timer') return false;
  if (typeof e.TriggerName !== 'string' || typeof e.Time !== 'string') return false;
  const source = sourceOf(context);
  return source !== undefined && !CLIENT_SOURCE.test(source);
}
