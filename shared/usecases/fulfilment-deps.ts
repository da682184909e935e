// The fulfilment use cases' dependencies from the function's environment, kept apart so that a
// function that only applies events (wxMessage) does not bundle the WeChat client.
import { callOpenApi } from '../wechat/openapi/client';
import { readMerchantId } from '../wechat/openapi/fulfilment-config';
import type { FulfilmentDeps } from './fulfilment';

/** WXPAY_MCHID + the openapi layer of this instance (read on first call, never at import). */
export function fulfilmentDepsFromEnv(): FulfilmentDeps {
  return { callOpenApi, mchid: readMerchantId() };
}
