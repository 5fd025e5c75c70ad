import type { APIGatewayProxyResult } from 'aws-lambda';
import { AppError } from '../domain/errors.ts';

/** The error envelope of DESIGN §8, identical for every route and every error. */
export interface ErrorEnvelope {
  error: { code: string; message: string; trace_id: string; details?: { path: string; message: string }[] };
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** Maps any error to a response: AppErrors keep their code; anything else is a 500 INTERNAL (a bug). */
export function errorResponse(error: unknown, traceId: string): APIGatewayProxyResult {
  const app =
    error instanceof AppError
      ? error
      : new AppError('INTERNAL', 'internal error; the trace id identifies it');
  const envelope: ErrorEnvelope = { error: { code: app.code, message: app.message, trace_id: traceId } };
  if (app.details.length > 0) envelope.error.details = app.details;
  return jsonResponse(app.status, envelope, app.headers);
}
