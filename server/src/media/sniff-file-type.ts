import { fileTypeFromFile } from 'file-type';

/** Video types an upload may be, by its magic bytes (never by its name or declared type). */
export const ALLOWED_VIDEO_MIME_TYPES = ['video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska'] as const;
export type AllowedVideoMimeType = (typeof ALLOWED_VIDEO_MIME_TYPES)[number];

export interface SniffedFileType {
  readonly mime: string;
  readonly ext: string;
}

/** The file's type from its leading bytes (`file-type`); undefined when unrecognised (empty, text, HTML). */
export async function sniffFileType(path: string): Promise<SniffedFileType | undefined> {
  const detected = await fileTypeFromFile(path);
  return detected ? { mime: detected.mime, ext: detected.ext } : undefined;
}

export function isAllowedVideoType(sniffed: SniffedFileType | undefined): sniffed is SniffedFileType & { mime: AllowedVideoMimeType } {
  return sniffed !== undefined && (ALLOWED_VIDEO_MIME_TYPES as readonly string[]).includes(sniffed.mime);
}
