/**
 * The journal's record of ranged downloads in progress: the temporary file and the MD5 of each
 * part written to it, so a killed restore resumes with the parts it already has.
 */
import type { JournalDatabase } from './journal-database.js';

/** A ranged download in progress into a temporary file. */
export interface DownloadRecord {
  readonly destination: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly sizeBytes: number;
  readonly partBytes: number;
  readonly tempPath: string;
  readonly startedAt: number;
}

/** Ranged downloads in progress (tables downloads, download_parts). */
export class DownloadRecords {
  constructor(private readonly database: JournalDatabase) {}

  /** Starts tracking a ranged download (replacing any older one into the same destination). */
  beginDownload(record: DownloadRecord): void {
    this.database.transaction(() => {
      this.forgetDownload(record.destination);
      this.database
        .statement(
          `INSERT INTO downloads (destination, endpoint, bucket, key, etag, size_bytes, part_bytes, temp_path, started_at)
         VALUES (@destination, @endpoint, @bucket, @key, @etag, @sizeBytes, @partBytes, @tempPath, @startedAt)`,
        )
        .run(record);
    });
  }

  /** The ranged download in progress into a destination, with the MD5 of each finished part. */
  getDownload(destination: string): { download: DownloadRecord; parts: Map<number, string> } | undefined {
    const download = this.database
      .statement(
        `SELECT destination, endpoint, bucket, key, etag, size_bytes AS sizeBytes, part_bytes AS partBytes, temp_path AS tempPath, started_at AS startedAt
       FROM downloads WHERE destination = ?`,
      )
      .get(destination) as DownloadRecord | undefined;
    if (download === undefined) return undefined;
    const rows = this.database.statement('SELECT part_number AS partNumber, md5_hex AS md5Hex FROM download_parts WHERE destination = ?').all(destination) as Array<{
      partNumber: number;
      md5Hex: string;
    }>;
    return { download, parts: new Map(rows.map((row) => [row.partNumber, row.md5Hex])) };
  }

  /** Commits one downloaded part (written to the temporary file before this call). */
  recordDownloadPart(destination: string, partNumber: number, md5Hex: string): void {
    this.database.statement('INSERT OR REPLACE INTO download_parts (destination, part_number, md5_hex) VALUES (?, ?, ?)').run(destination, partNumber, md5Hex);
  }

  /** Forgets a ranged download (finished or abandoned). */
  forgetDownload(destination: string): void {
    this.database.statement('DELETE FROM download_parts WHERE destination = ?').run(destination);
    this.database.statement('DELETE FROM downloads WHERE destination = ?').run(destination);
  }
}
