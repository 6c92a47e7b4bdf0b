/** The artifact bucket: versioned and private, checkpoints expiring by tag, and least-privilege grants. */
import { Duration, aws_iam as iam, RemovalPolicy, type Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import type { SpikeNasSettings } from './settings.js';

/**
 * The tag artifacts/s3-store.ts puts on checkpoint objects (keys with a `checkpoints/` segment); the
 * lifecycle rule below expires by it because lifecycle prefixes cannot hold wildcards (runs/<id>/…).
 * test/infra-stack.test.ts checks that the two agree.
 */
export const CHECKPOINT_TAG = { key: 'kind', value: 'checkpoint' } as const;

/**
 * Like every concern of the stack (see stack.ts), its resources are created in the stack's own scope.
 */
export class ArtifactBucket {
  readonly bucket: s3.Bucket;
  /** Key prefix of every object the workers may touch. */
  readonly prefix: string;
  /** `s3://<bucket>/<prefix>`: the workers' and the Slack bot's SPIKENAS_ARTIFACTS. */
  readonly uri: string;

  constructor(stack: Stack, settings: SpikeNasSettings) {
    this.prefix = settings.artifactPrefix;
    this.bucket = new s3.Bucket(stack, 'Artifacts', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-checkpoints',
          prefix: `${this.prefix}/`,
          tagFilters: { [CHECKPOINT_TAG.key]: CHECKPOINT_TAG.value },
          expiration: Duration.days(settings.checkpointExpiryDays),
        },
        {
          // Current objects other than checkpoints (winners, reports, manifests) are kept.
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(settings.noncurrentExpiryDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    this.uri = `s3://${this.bucket.bucketName}/${this.prefix}`;
  }

  /** Least privilege: objects under `<prefix>/` only, and listing only that prefix. */
  grantWorker(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:PutObjectTagging',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        resources: [this.bucket.arnForObjects(`${this.prefix}/*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${this.prefix}/*`, `${this.prefix}/`] } },
      }),
    );
  }
}
