import { openApiDocument, operation, publicApi, type RequestContext } from '@jobengine/core';

/** The OpenAPI 3.1 document (DESIGN §8), unauthenticated; built once per container, at cold start. */
const document = openApiDocument();

export const handler = publicApi({
  'GET /.well-known/openapi': operation<RequestContext>({
    handle: async () => ({
      status: 200,
      body: document,
      headers: { 'Cache-Control': 'public, max-age=300' },
    }),
  }),
});
