/** An `artifacts` row as pg returns it. */
export interface ArtifactRow {
  id: string;
  digest: string;
  run_id: string;
  job_id: string;
  attempt: number;
  uri: string;
  /** bigint: pg returns it as text. */
  size_bytes: string;
  media_type: string;
  kind: string;
  created_at: Date;
}
