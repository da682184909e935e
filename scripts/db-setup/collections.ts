// Creates the collections through the server SDK (the same call in the cloud and on the emulator).
// CloudBase never creates a collection implicitly, so a first deploy without this fails every write.

export interface CollectionCreator {
  createCollection(name: string): Promise<unknown>;
}

export interface EnsureResult {
  created: string[];
  existing: string[];
}

/** A code or message field as text; anything that is not a string or number counts as absent. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function alreadyExists(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return /ALREADY_EXIST/i.test(text(e?.code)) || /already exist/i.test(text(e?.message));
}

/** Idempotent: existing collections are left alone (and reported), anything else is an error. */
export async function ensureCollections(db: CollectionCreator, names: string[]): Promise<EnsureResult> {
  const result: EnsureResult = { created: [], existing: [] };
  for (const name of names) {
    try {
      const res = (await db.createCollection(name)) as { code?: unknown; message?: unknown } | undefined;
      // older node-sdk versions resolve with { code, message } instead of throwing
      if (res && typeof res === 'object' && res.code) {
        if (alreadyExists(res)) result.existing.push(name);
        else throw new Error(`creating collection ${name} failed: ${text(res.code)} ${text(res.message)}`);
      } else result.created.push(name);
    } catch (err) {
      if (alreadyExists(err)) result.existing.push(name);
      else
        throw new Error(
          `creating collection ${name} failed (${(err as Error).message}); check TCB_ENV_ID and the API key's access to the environment`,
        );
    }
  }
  return result;
}
