// Servers close idle keep-alive connections (WeChat Pay's after about 8 s); a request that races the
// close is reset before any answer. Every call this library makes is idempotent — queries, and prepay,
// close and refund by their out_trade_no / out_refund_no — so the clients retry such a reset once.

/** The request went out on a reused keep-alive socket that was reset before any answer (axios error). */
function isStaleKeepAlive(err: unknown): boolean {
  const e = err as { code?: unknown; response?: unknown; request?: { reusedSocket?: unknown } } | undefined;
  return (
    e?.response === undefined &&
    e?.request?.reusedSocket === true &&
    (e.code === 'ECONNRESET' || e.code === 'EPIPE')
  );
}

/** Runs `send`, and once more when its request met a stale keep-alive connection. */
export function retryingStaleConnection<T>(send: () => Promise<T>): Promise<T> {
  return send().catch((err: unknown) => {
    if (isStaleKeepAlive(err)) return send();
    throw err;
  });
}
