// Errors in the platform's shape: the SDKs read `code` (a string such as DATABASE_COLLECTION_NOT_EXIST)
// and `message` from a 200 response; wx-server-sdk turns known codes into its numeric errCode.

/** The codes this emulator answers with, as the CloudBase database API names them. */
export type PlatformErrorCode =
  | 'INVALID_PARAM'
  | 'INVALID_ENV'
  | 'SYS_ERR'
  | 'DATABASE_REQUEST_FAILED'
  | 'DATABASE_COLLECTION_NOT_EXIST'
  | 'DATABASE_COLLECTION_ALREADY_EXIST'
  | 'DATABASE_DUPLICATE_WRITE'
  | 'DATABASE_TRANSACTION_CONFLICT'
  | 'DATABASE_TRANSACTION_FAIL'
  | (string & {});

export class PlatformError extends Error {
  constructor(
    readonly code: PlatformErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PlatformError';
  }
}

/** Wire shape of every error answer: `{ code, message, requestId }`. */
export interface PlatformErrorBody {
  code: string;
  message: string;
  requestId: string;
}

export const invalidParam = (message: string) => new PlatformError('INVALID_PARAM', message);

export const collectionNotExist = (name: string) =>
  new PlatformError(
    'DATABASE_COLLECTION_NOT_EXIST',
    `collection "${name}" does not exist; create it first (db.createCollection('${name}'), or the emulator's collections option)`,
  );

export const collectionAlreadyExist = (name: string) =>
  new PlatformError('DATABASE_COLLECTION_ALREADY_EXIST', `collection "${name}" already exists`);

export const duplicateWrite = (collection: string, id: unknown) =>
  new PlatformError(
    'DATABASE_DUPLICATE_WRITE',
    `a document with _id ${JSON.stringify(id)} already exists in "${collection}"; use doc(id).set() to replace it`,
  );

export const transactionConflict = (collection: string, id: unknown) =>
  new PlatformError(
    'DATABASE_TRANSACTION_CONFLICT',
    `write conflict on ${collection}/${JSON.stringify(id)}: another write touched this document during the transaction; retry the transaction`,
  );

export function toErrorBody(err: unknown, requestId: string): PlatformErrorBody {
  if (err instanceof PlatformError) return { code: err.code, message: err.message, requestId };
  // Anything else is our bug; say so without leaking internals beyond the message.
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'SYS_ERR', message: `local emulator internal error: ${message}`, requestId };
}
