import type { Readable } from 'node:stream';
import { ahlError, type LabConfig, type Secrets } from '@ahl/core';

/** The S3-compatible store of appliance captures (lab.yaml `captureStore`). */
export interface CaptureStore {
  readonly bucket: string;
  readonly prefix: string;
  /** `s3://bucket/key`, for records and messages. */
  url(key: string): string;
  /** Uploads a stream of unknown length (multipart, parts in parallel). */
  upload(key: string, body: Readable, contentType: string): Promise<void>;
  putJson(key: string, value: unknown): Promise<void>;
  getJson<T>(key: string): Promise<T | undefined>;
  /** Size in bytes, or undefined when there is no such object. */
  size(key: string): Promise<number | undefined>;
  /** A GET URL that works without credentials for `seconds`; its signature is registered as a secret. */
  presign(key: string, seconds: number): Promise<string>;
  /** Keys under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  close(): void;
}

/**
 * Opens the lab's capture store. The AWS SDK is loaded only now: commands that never touch S3 do
 * not pay for it. Credentials come from secret references and are masked like every secret.
 */
export async function openCaptureStore(config: LabConfig, secrets: Secrets): Promise<CaptureStore> {
  const c = config.captureStore;
  if (!c) throw ahlError('CAPTURE_STORE_MISSING', {});
  // On Node 20 the SDK warns that its releases after January 2027 need Node 22: not something to act on mid-command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [{ S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command }, { Upload }, { getSignedUrl }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/lib-storage'),
    import('@aws-sdk/s3-request-presigner'),
  ]);
  const client = new S3Client({
    region: c.region,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    forcePathStyle: c.pathStyle,
    credentials: { accessKeyId: secrets.resolve(c.accessKeyId, 'captureStore.accessKeyId'), secretAccessKey: secrets.resolve(c.secretAccessKey, 'captureStore.secretAccessKey') },
  });
  const fail = (operation: string) => (e: unknown) => {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    throw ahlError('CAPTURE_STORE_FAILED', { operation, reason: secrets.redactor.redact(`${err.$metadata?.httpStatusCode ? `HTTP ${err.$metadata.httpStatusCode} ` : ''}${err.name ?? ''}${err.message && err.message !== err.name ? `: ${err.message}` : ''}`.trim()) });
  };
  const notFound = (e: unknown) => {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
    return err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404;
  };
  const url = (key: string) => `s3://${c.bucket}/${key}`;
  return {
    bucket: c.bucket,
    prefix: c.prefix,
    url,
    async upload(key, body, contentType) {
      const up = new Upload({ client, params: { Bucket: c.bucket, Key: key, Body: body, ContentType: contentType }, queueSize: 2, partSize: 16 * 1024 * 1024, leavePartsOnError: false });
      await up.done().catch(fail(`upload to ${url(key)}`));
    },
    async putJson(key, value) {
      await client.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: `${JSON.stringify(value, null, 2)}\n`, ContentType: 'application/json' })).catch(fail(`upload to ${url(key)}`));
    },
    async getJson<T>(key: string) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: c.bucket, Key: key }));
        return JSON.parse(await r.Body!.transformToString()) as T;
      } catch (e) {
        if (notFound(e)) return undefined;
        return fail(`read of ${url(key)}`)(e);
      }
    },
    async size(key) {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: c.bucket, Key: key }));
        return Number(r.ContentLength ?? 0);
      } catch (e) {
        if (notFound(e)) return undefined;
        return fail(`lookup of ${url(key)}`)(e);
      }
    },
    async presign(key, seconds) {
      const signed = await getSignedUrl(client, new GetObjectCommand({ Bucket: c.bucket, Key: key }), { expiresIn: seconds }).catch(fail(`signing a URL for ${url(key)}`));
      // The signature lets anyone read the object until it expires: mask it wherever it could appear.
      const sig = new URL(signed).searchParams.get('X-Amz-Signature');
      if (sig) secrets.redactor.add(sig);
      return signed;
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const r = await client.send(new ListObjectsV2Command({ Bucket: c.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) })).catch(fail(`listing ${url(prefix)}`));
        for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    close() {
      client.destroy();
    },
  };
}
