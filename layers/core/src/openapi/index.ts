/** The OpenAPI document and the operation registry it is generated from (docs/openapi.md). */
export {
  API_VERSION,
  errorCodesFor,
  errorStatuses,
  type JsonObject,
  OPENAPI_VERSION,
  openApiDocument,
} from './document.ts';
export {
  bodyLimit,
  type HttpMethod,
  OPERATIONS,
  type OperationSpec,
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
  splitKey,
} from './operations.ts';
export { ErrorEnvelope, page } from './responses.ts';
