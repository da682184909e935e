// The fulfilment use cases' dependencies in a deployed function, kept apart so that a function that
// only applies events (wxMessage) does not bundle the WeChat client.
import { getDatabase } from '../db/database';
import { getRepositories } from '../db/repositories';
import type { Logger } from '../log';
import { callOpenApi } from '../wechat/openapi/client';
import { readMerchantId } from '../wechat/openapi/fulfilment-config';
import type { FulfilmentDeps, FulfilmentStore } from './fulfilment';

/** This instance's database and orders (no WeChat client). */
export function fulfilmentStore(log: Logger): FulfilmentStore {
  return { db: getDatabase(), orders: getRepositories().orders, log };
}

/** WXPAY_MCHID + the openapi layer of this instance (read on first call, never at import). */
export function fulfilmentDepsFromEnv(log: Logger): FulfilmentDeps {
  return { ...fulfilmentStore(log), callOpenApi, mchid: readMerchantId() };
}
