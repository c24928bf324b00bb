import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { MultipartUploadStream } from './s3-multipart';
import { copyInsideService } from './s3-copy';
import type { S3Config } from '../config';
import { StorageError } from '../errors';
import { KeyTakenError, streamToBuffer, type ObjectWriter, type Storage, type StoredObject, type TargetIdentity, type WriteOptions } from './storage';

export function createS3Client(config: S3Config): S3Client {
  const options: S3ClientConfig = {
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    requestChecksumCalculation: config.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    responseChecksumValidation: config.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    maxAttempts: 4,
    // The SDK waits forever by default; a stalled endpoint must fail the backup, not hang it.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  };
  // Without explicit keys the SDK's default chain applies (AWS_* variables, profiles, IAM roles).
  if (config.accessKeyId && config.secretAccessKey) {
    options.credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
  }
  return new S3Client(options);
}

function explain(action: string, where: string, error: unknown): StorageError {
  const err = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = err.$metadata?.httpStatusCode;
  const hints: Record<string, string> = {
    NoSuchBucket: 'the bucket does not exist; create it or fix S3_BUCKET',
    AccessDenied: 'access denied; check the credentials and the bucket policy',
    InvalidAccessKeyId: 'unknown access key; check S3_ACCESS_KEY_ID',
    SignatureDoesNotMatch: 'signature mismatch; check S3_SECRET_ACCESS_KEY and S3_REGION',
    ECONNREFUSED: 'connection refused; check S3_ENDPOINT and that the server is running',
    ENOTFOUND: 'host not found; check S3_ENDPOINT and S3_REGION',
    ECONNRESET: 'the connection was reset by the server; check S3_ENDPOINT and the network',
    XAmzContentSHA256Mismatch: 'the server rejected the request checksum; set S3_CHECKSUMS=when_required',
  };
  const reason = (err.name && hints[err.name]) ?? (err.code && hints[err.code]) ?? `${err.message || err.name || 'unknown error'}${status ? ` (HTTP ${status})` : ''}`;
  return new StorageError(`Cannot ${action} ${where}: ${reason}`, { cause: error });
}

/**
 * An exclusive write (If-None-Match: *) found the key taken: 412 Precondition Failed, or 409 while
 * another conditional write of the same key is in flight (AWS).
 */
function isConditionFailure(error: unknown): boolean {
  const err = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'PreconditionFailed' || err.name === 'ConditionalRequestConflict' || err.$metadata?.httpStatusCode === 412;
}

/**
 * Backups in an S3 bucket (AWS or compatible: MinIO, R2, B2, Wasabi). Large objects stream through
 * a multipart upload in fixed memory (part size x (queue + 1)); an upload that fails or is aborted
 * is aborted on the server too, so no object appears under the key.
 */
export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly readCost = 10;
  readonly name: string;
  readonly role: TargetIdentity['role'];
  constructor(
    private readonly config: S3Config,
    private readonly client: S3Client = createS3Client(config),
    target: TargetIdentity = { name: 's3', role: 'primary' },
  ) {
    this.name = target.name;
    this.role = target.role;
  }

  /**
   * Two targets are one service when a request signed for one reaches the other's objects: same
   * endpoint, region and credentials. Then an object copies between them without leaving the server.
   */
  canCopyFrom(source: Storage): boolean {
    if (!(source instanceof S3Storage)) return false;
    const a = this.config;
    const b = source.config;
    return a.endpoint === b.endpoint && a.region === b.region && a.accessKeyId === b.accessKeyId && a.secretAccessKey === b.secretAccessKey;
  }

  async copyFrom(source: Storage, key: string, size: number): Promise<boolean> {
    if (!(source instanceof S3Storage) || !this.canCopyFrom(source)) return false;
    try {
      await copyInsideService({
        client: this.client,
        from: { bucket: source.config.bucket, key: source.objectKey(key) },
        to: { bucket: this.config.bucket, key: this.objectKey(key), storageClass: this.config.storageClass },
        size,
      });
    } catch (error) {
      if (isConditionFailure(error)) throw new KeyTakenError(this.location(key));
      throw explain('copy to', this.location(key), error);
    }
    return true;
  }

  private objectKey(key: string): string {
    return this.config.prefix ? `${this.config.prefix}/${key}` : key;
  }

  location(key: string): string {
    return `s3://${this.config.bucket}/${this.objectKey(key)}`;
  }

  async createWriter(key: string, options: WriteOptions = {}): Promise<ObjectWriter> {
    const explainError = (error: unknown) => {
      if (error instanceof StorageError) return error;
      return isConditionFailure(error) ? new KeyTakenError(this.location(key)) : explain('upload to', this.location(key), error);
    };
    const stream = new MultipartUploadStream({
      client: this.client,
      bucket: this.config.bucket,
      key: this.objectKey(key),
      storageClass: this.config.storageClass,
      partSize: this.config.partSizeBytes,
      queueSize: this.config.queueSize,
      onlyIfNew: options.exclusive,
      explain: explainError,
    });
    let completing: Promise<void> | undefined;
    let aborted = false;
    return {
      stream,
      complete: () => (completing ??= stream.done),
      explain: explainError,
      abort: async (reason) => {
        if (aborted) return;
        aborted = true;
        if (completing) {
          // A CompleteMultipartUpload may be in flight: wait for it, then remove what it made.
          const completed = await completing.then(() => true, () => false);
          if (completed) return this.delete(key);
        }
        stream.cancel(reason ?? new Error('backup aborted'));
        await stream.done.catch(() => undefined);
      },
    };
  }

  async put(key: string, body: Buffer): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key), Body: body, StorageClass: this.config.storageClass }));
    } catch (error) {
      throw explain('write', this.location(key), error);
    }
  }

  async read(key: string): Promise<Readable> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
      return result.Body as Readable;
    } catch (error) {
      throw explain('read', this.location(key), error);
    }
  }

  async readAll(key: string): Promise<Buffer> {
    return streamToBuffer(await this.read(key));
  }

  async *list(prefix = ''): AsyncIterable<StoredObject> {
    const root = this.config.prefix ? `${this.config.prefix}/` : '';
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: root + prefix, ContinuationToken: token }));
      } catch (error) {
        throw explain('list', `s3://${this.config.bucket}/${root}${prefix}`, error);
      }
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield { key: object.Key.slice(root.length), size: object.Size ?? 0, modified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      throw explain('delete', this.location(key), error);
    }
  }
}
