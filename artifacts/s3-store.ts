import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { InputError } from '../common/errors.js';
import { checkKey } from './local-store.js';
import { ArtifactNotFoundError, type ArtifactStore, ArtifactStoreAccessError } from './store.types.js';

export { ArtifactStoreAccessError } from './store.types.js';

export const S3_URI_ALLOWED = 's3://bucket or s3://bucket/prefix';

// The SDK warns that its releases after January 2027 will need Node 22, once per module instance: that is
// once in every worker thread and process, beside every search's progress. package.json states the Node
// this project runs on; the warning says nothing a search can act on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Objects whose key has a `checkpoints` segment (runs/<id>/checkpoints/… and their digest sidecars
 * runs/<id>/.digests/checkpoints/…) are tagged kind=checkpoint as they are written: S3 lifecycle prefixes
 * cannot hold wildcards, so the bucket's checkpoint-expiry rule (infra/) matches this tag instead.
 */
export const CHECKPOINT_TAG = { key: 'kind', value: 'checkpoint' } as const;
const CHECKPOINT_KEY = /(^|\/)checkpoints\//;

/** lib-storage's minimum part size; parts stay in memory, so part size x queue size bounds a put's memory. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_QUEUE_SIZE = 4;
/** Requests (and whole-body reads) per operation, first try included. */
const DEFAULT_MAX_ATTEMPTS = 8;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 10_000;

export interface S3StoreOptions {
  /** An S3-compatible server's URL. Default: SPIKENAS_S3_ENDPOINT, then the SDK's AWS_ENDPOINT_URL_S3 etc. */
  endpoint?: string;
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region; us-east-1 for an explicit endpoint. */
  region?: string;
  /** Default: SPIKENAS_S3_FORCE_PATH_STYLE, else true when an explicit endpoint is given. */
  forcePathStyle?: boolean;
  /** Default: the SDK's chain (env keys, AWS_PROFILE, SSO, web identity, ECS task role, instance role). */
  credentials?: S3ClientConfig['credentials'];
  /** Multipart part size in bytes (at least 5 MiB). Default 8 MiB. */
  partSize?: number;
  /** Parts uploaded at once per put. Default 4. */
  queueSize?: number;
  /** Attempts per request, first included, with exponential backoff on throttling, 5xx and resets. */
  maxAttempts?: number;
  /** Check at open that the bucket exists and the prefix may be listed. Default true. */
  probe?: boolean;
  /** Environment to read settings from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * An ArtifactStore on an S3 prefix (AWS S3 or an S3-compatible server). Every put goes through
 * lib-storage's Upload: small bodies as one PutObject, large ones and streams as a multipart upload whose
 * parts are buffered, so each request can be retried as a whole. An object appears only when its PutObject
 * or CompleteMultipartUpload succeeds; a failed multipart upload is aborted, leaving the old object as it was.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly uri: string;

  private constructor(
    readonly client: S3Client,
    readonly bucket: string,
    /** '' or a prefix ending in '/'. */
    readonly prefix: string,
    private readonly partSize: number,
    private readonly queueSize: number,
    private readonly maxAttempts: number,
    /** As configured: the client's own config holds it as a provider function. */
    private readonly region: string,
  ) {
    this.uri = `s3://${bucket}${prefix === '' ? '' : `/${prefix.slice(0, -1)}`}`;
  }

  static async fromUri(uri: string, options: S3StoreOptions = {}): Promise<S3ArtifactStore> {
    const { bucket, prefix } = parseS3Uri(uri);
    const env = options.env ?? process.env;
    const explicitEndpoint = options.endpoint ?? nonEmpty(env.SPIKENAS_S3_ENDPOINT);
    const forcePathStyle =
      options.forcePathStyle ?? parseFlag(env.SPIKENAS_S3_FORCE_PATH_STYLE) ?? explicitEndpoint !== undefined;
    const partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) {
      throw new InputError('partSize', `${partSize} is too small`, `an integer >= ${MIN_PART_SIZE} (5 MiB)`);
    }
    const queueSize = positiveInteger('queueSize', options.queueSize ?? DEFAULT_QUEUE_SIZE);
    const maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const region =
      options.region ??
      nonEmpty(env.AWS_REGION) ??
      nonEmpty(env.AWS_DEFAULT_REGION) ??
      (await profileRegion()) ??
      (explicitEndpoint === undefined ? undefined : 'us-east-1');
    if (region === undefined) {
      throw new InputError(
        'region',
        `no AWS region configured for ${uri}`,
        'AWS_REGION, AWS_DEFAULT_REGION or a region in the AWS_PROFILE profile',
      );
    }
    const client = new S3Client({
      region,
      forcePathStyle,
      maxAttempts,
      retryMode: 'standard',
      ...(explicitEndpoint === undefined ? {} : { endpoint: explicitEndpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });
    const store = new S3ArtifactStore(client, bucket, prefix, partSize, queueSize, maxAttempts, region);
    if (options.probe ?? true) await store.probe();
    return store;
  }

  async put(key: string, body: Uint8Array | string | AsyncIterable<Uint8Array>): Promise<void> {
    const objectKey = this.objectKey(key);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: objectKey,
        // Upload reads Uint8Array, string or Readable; a plain async iterable becomes a Readable.
        Body: typeof body === 'string' || body instanceof Uint8Array ? body : Readable.from(body),
        // x-amz-tagging on PutObject / CreateMultipartUpload: the tag arrives with the object, not after it.
        ...(CHECKPOINT_KEY.test(key) ? { Tagging: `${CHECKPOINT_TAG.key}=${CHECKPOINT_TAG.value}` } : {}),
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      throw this.explain(error, 'PutObject', objectKey);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const objectKey = this.objectKey(key);
    // The SDK retries requests; a body cut off after the headers arrived is retried here, as a new GET.
    for (let attempt = 1; ; attempt++) {
      const response = await this.client
        .send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }))
        .catch((error: unknown) => {
          throw this.explain(error, 'GetObject', objectKey);
        });
      try {
        const bytes = await (
          response.Body as { transformToByteArray(): Promise<Uint8Array> }
        ).transformToByteArray();
        if (response.ContentLength !== undefined && bytes.byteLength !== response.ContentLength) {
          throw Object.assign(
            new Error(`GetObject ${this.uriOf(key)}: ${bytes.byteLength} of ${response.ContentLength} bytes`),
            { code: 'ETRUNCATED' },
          );
        }
        return bytes;
      } catch (error) {
        if (attempt >= this.maxAttempts || !isBrokenBody(error)) throw error;
        await sleep(backoffMs(attempt));
      }
    }
  }

  async exists(key: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw this.explain(error, 'HeadObject', objectKey);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client
        .send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        )
        .catch((error: unknown) => {
          throw this.explain(error, 'ListObjectsV2', this.prefix + prefix);
        });
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) keys.push(object.Key.slice(this.prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  /** Fails at open, not mid-run, when the bucket is missing or the prefix may not be listed. */
  private async probe(): Promise<void> {
    await this.client
      .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 }))
      .catch((error: unknown) => {
        throw this.explain(error, 'ListObjectsV2', this.prefix);
      });
  }

  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  /** Turns the errors that retrying cannot fix into messages that say what to check. */
  private explain(error: unknown, operation: string, objectKey: string): unknown {
    const code = codeOf(error);
    const uri = `s3://${this.bucket}/${objectKey}`;
    const resource = `arn:aws:s3:::${this.bucket}/${this.prefix}*`;
    if (code === 'NoSuchKey' || (code === 'NotFound' && operation !== 'ListObjectsV2')) {
      return new ArtifactNotFoundError(uri);
    }
    if (code === 'NoSuchBucket') {
      return new ArtifactStoreAccessError(
        code,
        uri,
        `${operation} ${uri}: bucket '${this.bucket}' does not exist. Check the bucket name in the artifact ` +
          'URI (--out / SPIKENAS_ARTIFACTS), the endpoint (SPIKENAS_S3_ENDPOINT, AWS_ENDPOINT_URL_S3) ' +
          'and the account the credentials belong to.',
      );
    }
    if (errorName(error) === 'CredentialsProviderError') {
      return new ArtifactStoreAccessError(
        'CredentialsProviderError',
        uri,
        `${operation} ${uri}: no AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ` +
          'AWS_PROFILE (a profile in ~/.aws/credentials or ~/.aws/config), or run where a task or instance ' +
          'role provides them.',
      );
    }
    if (code === 'SignatureDoesNotMatch') {
      return new ArtifactStoreAccessError(
        code,
        uri,
        `${operation} ${uri}: the request signature does not match. Check AWS_SECRET_ACCESS_KEY / the profile.`,
      );
    }
    // A HEAD answer has no body, so a denied HeadObject carries only its status.
    if (code === 'AccessDenied' || code === 'InvalidAccessKeyId' || statusOf(error) === 403) {
      const reason = code === 'AccessDenied' || code === 'InvalidAccessKeyId' ? code : 'HTTP 403';
      return new ArtifactStoreAccessError(
        reason,
        uri,
        `${operation} ${uri}: access denied (${reason}). Check which credentials are in use (AWS_PROFILE, ` +
          'AWS_ACCESS_KEY_ID, the ECS task role) and that their policy allows s3:GetObject, s3:PutObject, ' +
          `s3:PutObjectTagging on ${resource} and s3:ListBucket on arn:aws:s3:::${this.bucket} ` +
          `for prefix '${this.prefix}'.`,
      );
    }
    if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || statusOf(error) === 301) {
      return new ArtifactStoreAccessError(
        code ?? 'PermanentRedirect',
        uri,
        `${operation} ${uri}: bucket '${this.bucket}' is in another region than ` +
          `'${this.region}'. Set AWS_REGION to the bucket's region.`,
      );
    }
    return error;
  }
}

/** Splits 's3://bucket/some/prefix' into the bucket and 'some/prefix/' ('' for the bucket root). */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  const bucket = match?.[1];
  if (match === null || bucket === undefined || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new InputError('artifacts', `'${uri}' is not an S3 URI with a valid bucket name`, S3_URI_ALLOWED);
  }
  const path = (match[2] ?? '').replace(/\/+$/, '');
  if (path !== '') {
    try {
      checkKey(path);
    } catch {
      throw new InputError('artifacts', `'${uri}' has an invalid prefix '${path}'`, S3_URI_ALLOWED);
    }
  }
  return { bucket, prefix: path === '' ? '' : `${path}/` };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseFlag(value: string | undefined): boolean | undefined {
  const text = nonEmpty(value)?.toLowerCase();
  if (text === undefined) return undefined;
  if (text === '1' || text === 'true' || text === 'yes') return true;
  if (text === '0' || text === 'false' || text === 'no') return false;
  throw new InputError(
    'SPIKENAS_S3_FORCE_PATH_STYLE',
    `'${value}' is not a flag`,
    '1, true, yes, 0, false, no',
  );
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InputError(field, `${value} is not allowed`, 'an integer >= 1');
  return value;
}

/** The region of the AWS_PROFILE profile (~/.aws/config), as the SDK itself resolves it; undefined if none. */
async function profileRegion(): Promise<string | undefined> {
  const probe = new S3Client({});
  try {
    return nonEmpty(await probe.config.region());
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

function codeOf(error: unknown): string | undefined {
  if (error instanceof S3ServiceException) return error.name;
  return (error as { Code?: string; name?: string } | null)?.Code;
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | null)?.name;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

const BROKEN_BODY_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ETRUNCATED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A response body that broke off mid-transfer (the connection, not the object, is at fault). */
function isBrokenBody(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return (code !== undefined && BROKEN_BODY_CODES.has(code)) || message === 'aborted';
}

function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
}
