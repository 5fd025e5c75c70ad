/**
 * Where export bundles are kept: a folder locally, an S3 bucket on AWS. Keys are `<tenant>/<exportId>/<file>`;
 * objects are written once and never changed.
 */
export interface ExportStore {
  put(key: string, content: Buffer, contentType: string): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Buffer | null>;
}
