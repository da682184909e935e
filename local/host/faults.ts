// Crash faults (`POST /host/faults {function, kind: 'crash', count?, afterMs?}`, `DELETE /host/faults`):
// the next `count` invocations of a function have their instance killed with SIGKILL `afterMs` into
// the call, or at a random point of it — what a platform instance dying mid-call looks like to the
// caller and to the database. A call that ends before the kill leaves the fault for the next call.

export interface CrashFault {
  id: number;
  function: string;
  kind: 'crash';
  /** Invocations still to crash. */
  count: number;
  /** Delay into the call; absent = a random point of it. */
  afterMs?: number;
}

export class FaultInputError extends Error {
  override name = 'FaultInputError';
}

const MAX_COUNT = 1000;
const MAX_AFTER_MS = 600_000;

export class CrashFaults {
  private faults: CrashFault[] = [];
  private nextId = 1;
  /** Bumped by clear(), so that a crash missed after a DELETE does not come back. */
  private epoch = 0;

  /**
   * Validates a `POST /host/faults` body and arms it. `known` tells whether a function is built, so that
   * a typo fails loudly instead of arming a fault nothing ever takes.
   */
  add(body: unknown, known: (name: string) => boolean): CrashFault {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new FaultInputError(
        `the body must be a JSON object such as {"function": "payNotify", "kind": "crash", "count": 1, "afterMs": 20}`,
      );
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b))
      if (!['function', 'kind', 'count', 'afterMs'].includes(key))
        throw new FaultInputError(
          `unknown field "${key}"; a host fault has function, kind, count?, afterMs?`,
        );
    if (typeof b.function !== 'string' || b.function === '')
      throw new FaultInputError('"function" must name a cloud function, e.g. "payNotify"');
    if (!known(b.function))
      throw new FaultInputError(
        `no cloud function named "${b.function}" is built; name one of the functions GET /health lists`,
      );
    if (b.kind !== 'crash')
      throw new FaultInputError(
        `"kind" must be "crash" (kill the instance during the call); got ${JSON.stringify(b.kind)}`,
      );
    const count = b.count ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_COUNT)
      throw new FaultInputError(`"count" must be an integer from 1 to ${MAX_COUNT} (invocations to crash)`);
    if (
      b.afterMs !== undefined &&
      (typeof b.afterMs !== 'number' ||
        !Number.isInteger(b.afterMs) ||
        b.afterMs < 0 ||
        b.afterMs > MAX_AFTER_MS)
    )
      throw new FaultInputError(
        `"afterMs" must be an integer from 0 to ${MAX_AFTER_MS} (ms into the call), or absent for a random point`,
      );
    const fault: CrashFault = {
      id: this.nextId++,
      function: b.function,
      kind: 'crash',
      count,
      ...(b.afterMs !== undefined ? { afterMs: b.afterMs } : {}),
    };
    this.faults.push(fault);
    return fault;
  }

  /**
   * Takes one crash for an invocation of `functionName`, or undefined. The returned `missed` puts it
   * back when the call ended before the kill.
   */
  take(functionName: string): { afterMs?: number; missed(): void } | undefined {
    const fault = this.faults.find((f) => f.function === functionName && f.count > 0);
    if (!fault) return undefined;
    fault.count--;
    if (fault.count === 0) this.faults = this.faults.filter((f) => f !== fault);
    const epoch = this.epoch;
    return {
      afterMs: fault.afterMs,
      missed: () => {
        if (epoch !== this.epoch) return;
        fault.count++;
        if (!this.faults.includes(fault)) this.faults.push(fault);
      },
    };
  }

  list(): CrashFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Returns how many faults were armed. */
  clear(): number {
    const n = this.faults.length;
    this.faults = [];
    this.epoch++;
    return n;
  }
}
