import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Tracing behind one small seam: X-Ray through the Powertools tracer on Lambda (the functions run with
 * active tracing), nothing anywhere else. The tracer and the X-Ray SDK under it are loaded only when
 * tracing is on, so the local runtime and tests never import them, and every call here is a no-op then.
 *
 * On when AWS_LAMBDA_FUNCTION_NAME is set and POWERTOOLS_TRACE_ENABLED is not `false`.
 */
let tracer: Tracer | null = null;

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AWS_LAMBDA_FUNCTION_NAME) && env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false';
}

/** Loads the tracer once, when tracing is on; called while the runtime is built, before any client. */
export async function initTracing(): Promise<void> {
  if (tracer !== null || !tracingEnabled()) return;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'jobengine' });
}

/** An AWS SDK v3 client whose calls appear as X-Ray subsegments when tracing is on; the client itself otherwise. */
export function traceClient<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/**
 * Runs `fn` in a subsegment named `name` (with annotations, which X-Ray indexes for search; computed only
 * when tracing is on) when tracing is on; just runs it otherwise. Errors are recorded on the subsegment and rethrown.
 */
export async function traced<T>(
  name: string,
  annotations: () => Record<string, string | undefined>,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = tracer?.getSegment();
  if (!tracer || !parent) return fn();
  const subsegment = parent.addNewSubsegment(name);
  tracer.setSegment(subsegment);
  for (const [key, value] of Object.entries(annotations())) {
    if (value !== undefined) subsegment.addAnnotation(key, value);
  }
  try {
    return await fn();
  } catch (error) {
    subsegment.addError(error as Error);
    throw error;
  } finally {
    subsegment.close();
    tracer.setSegment(parent);
  }
}
