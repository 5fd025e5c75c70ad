import { authorizeRequest } from '@jobengine/core';

/**
 * REST API Lambda authorizer (REQUEST type): bearer token and X-Stella-Tenant → Allow / Deny policy, or 401.
 * Verifies with the functions' own verifier and configuration (AUTH_*); no database (ADR 0009).
 */
export const handler = authorizeRequest;
