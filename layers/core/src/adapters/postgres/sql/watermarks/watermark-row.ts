/** A `watermarks` row as pg returns it. */
export interface WatermarkRow {
  tenant_id: string;
  source_id: string;
  stream: string;
  watermark: Date;
  advanced_by_job: string | null;
  updated_at: Date;
}
