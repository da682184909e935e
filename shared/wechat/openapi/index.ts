export { OPEN_APIS, OPENAPI_PERMISSIONS, type OpenApiName } from './apis';
export { callOpenApi, createOpenApiClient, type CallOpenApi, type OpenApiBody } from './client';
export { readOpenApiConfig, type OpenApiConfig, type OpenApiMode } from './config';
export { OpenApiError } from './errors';
export { TOKENS_COLLECTION } from './token-store';
export { readMerchantId, readMessageToken } from './fulfilment-config';
