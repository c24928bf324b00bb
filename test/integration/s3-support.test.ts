/** Proves the S3 test support works: a real s3rver child process, full pagination, and the
 * fault-injecting proxy (signed requests pass through; injected errors reach the SDK). */
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startFaultyProxy, uploadPartAfter, type FaultyProxy } from '../support/faulty-proxy';
import { listAllKeys, makeS3Client, startTestS3, type TestS3 } from '../support/s3';

let s3: TestS3;
let proxy: FaultyProxy;
let viaProxy: S3Client;

beforeAll(async () => {
  s3 = await startTestS3();
  proxy = await startFaultyProxy(s3.endpoint);
  // One attempt, so an injected error surfaces instead of being retried away.
  viaProxy = makeS3Client(proxy.endpoint, s3.accessKeyId, s3.secretAccessKey, 1);
});

afterAll(async () => {
  viaProxy?.destroy();
  await proxy?.close();
  await s3?.stop();
});

afterEach(() => proxy.clear());

/** The HTTP status of a rejected SDK call. */
async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof S3ServiceException) return err.$metadata.httpStatusCode;
    throw err;
  }
  throw new Error('expected the request to fail');
}

test('env() describes the server in keepsake terms', () => {
  expect(s3.env('x/y')).toEqual({
    S3_BUCKET: 'keepsake-test',
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: 'true',
    S3_PREFIX: 'x/y',
  });
  expect(s3.env().S3_PREFIX).toBe('db-backups');
});

test('listAllKeys pages past 1000 keys', async () => {
  const keys = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(4, '0')}.txt`);
  for (let i = 0; i < keys.length; i += 100) {
    await Promise.all(
      keys.slice(i, i + 100).map((Key) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: Key }))),
    );
  }
  const listed = await listAllKeys(s3, 'many/');
  expect(listed).toHaveLength(1100);
  expect(new Set(listed)).toEqual(new Set(keys));
});

test('signed requests pass through the proxy unchanged', async () => {
  await viaProxy.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'proxied.txt', Body: 'hello' }));
  const got = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'proxied.txt' }));
  expect(await got.Body?.transformToString()).toBe('hello');
  expect(proxy.requests).toEqual([{ method: 'PUT', url: expect.stringContaining('/proxied.txt'), status: 200 }]);
});

test('failWhen injects an S3 error without forwarding', async () => {
  proxy.failWhen(() => true);
  const put = viaProxy.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'never.txt', Body: 'x' }));
  expect(await statusOf(put)).toBe(500);
  expect(proxy.requests.map((r) => r.status)).toEqual([500]);
  expect(await statusOf(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'never.txt' })))).toBe(404);
});

test('uploadPartAfter(2) lets two parts through and fails the rest', async () => {
  proxy.failWhen(uploadPartAfter(2));
  const { UploadId } = await viaProxy.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'multi.bin' }));
  // 3 MiB parts: large enough that the SDK sends "Expect: 100-continue" through the proxy.
  const part = Buffer.alloc(3 * 1024 * 1024, 7);
  const send = (PartNumber: number) =>
    viaProxy.send(new UploadPartCommand({ Bucket: s3.bucket, Key: 'multi.bin', UploadId, PartNumber, Body: part }));
  await send(1);
  await send(2);
  expect(await statusOf(send(3))).toBe(500);
  expect(await statusOf(send(4))).toBe(500);
  expect(proxy.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 200', 'PUT 200', 'PUT 200', 'PUT 500', 'PUT 500']);
});
