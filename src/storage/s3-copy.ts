import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';

/** S3 copies one object in a single CopyObject request only up to 5 GiB; larger ones go part by part. */
export const SINGLE_COPY_LIMIT = 5 * 1024 ** 3;
/** Parts of a multipart copy: large enough that a 5 TB object stays under S3's 10,000 parts. */
const COPY_PART_BYTES = 512 * 1024 ** 2;

export interface ServerSideCopy {
  client: S3Client;
  from: { bucket: string; key: string };
  to: { bucket: string; key: string; storageClass?: StorageClass };
  size: number;
}

/** The byte ranges ("bytes=0-536870911", inclusive) a multipart copy of `size` bytes asks for, in order. */
export function copyRanges(size: number, partBytes = COPY_PART_BYTES): string[] {
  const ranges: string[] = [];
  for (let start = 0; start < size; start += partBytes) ranges.push(`bytes=${start}-${Math.min(start + partBytes, size) - 1}`);
  return ranges;
}

/**
 * Copies an object inside one S3 service: CopyObject up to 5 GiB, UploadPartCopy beyond. The
 * destination is written only if no object exists under its key (If-None-Match: *, where the
 * server honours it). A failed multipart copy is aborted, so nothing appears under the key.
 */
export async function copyInsideService({ client, from, to, size }: ServerSideCopy): Promise<void> {
  const CopySource = encodeURI(`${from.bucket}/${from.key}`);
  if (size <= SINGLE_COPY_LIMIT) {
    await client.send(new CopyObjectCommand({ Bucket: to.bucket, Key: to.key, CopySource, StorageClass: to.storageClass, IfNoneMatch: '*' }));
    return;
  }
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, StorageClass: to.storageClass }));
  try {
    const parts: CompletedPart[] = [];
    // One part at a time: the server does the work, keepsake only waits, and a copy is not urgent.
    for (const [index, CopySourceRange] of copyRanges(size).entries()) {
      const PartNumber = index + 1;
      const result = await client.send(new UploadPartCopyCommand({ Bucket: to.bucket, Key: to.key, UploadId, PartNumber, CopySource, CopySourceRange }));
      parts.push({ PartNumber, ETag: result.CopyPartResult?.ETag });
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId, MultipartUpload: { Parts: parts }, IfNoneMatch: '*' }));
  } catch (error) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId })).catch(() => undefined);
    throw error;
  }
}
