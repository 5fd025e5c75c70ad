import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** The key spec of the signing key: ECDSA on P-256 (ES256 signatures), usable for signing only. */
export const SIGNING_KEY_SPEC = KeySpec.ECC_NIST_P256;
/** The only KMS actions an exporter may use with the signing key. */
export const SIGNING_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'] as const;

export interface AuditExportsProps {
  /** @default Duration.days(30) */
  readonly infrequentAccessAfter?: Duration;
  /** @default Duration.days(400) */
  readonly expireAfter?: Duration;
  /**
   * Of the buckets and the key. RETAIN by default in every environment: bundles are audit evidence, and
   * deleting the key makes the signatures it made unverifiable. A non-empty bucket blocks DESTROY.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** overrides for the export bucket */
  readonly bucketProps?: Partial<BucketProps>;
}

/**
 * Where audit export bundles go (DESIGN §4: S3 + KMS): a private, encrypted, versioned, TLS-only bucket
 * with server access logs and a lifecycle, and an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that
 * signs bundle manifests without the private key ever leaving KMS. An exporter gets `environment` and
 * `grantExporter`: read and write bundles, sign and fetch the public key - nothing else.
 */
export class AuditExports extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;
  readonly signingKey: Key;

  constructor(scope: Construct, id: string, props: AuditExportsProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the export bucket access logs; logging it to itself would loop.',
    });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'exports/',
      lifecycleRules: [
        {
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          transitions: [
            {
              storageClass: StorageClass.INFREQUENT_ACCESS,
              transitionAfter: props.infrequentAccessAfter ?? Duration.days(30),
            },
          ],
          expiration: props.expireAfter ?? Duration.days(400),
          noncurrentVersionExpiration: Duration.days(30),
        },
      ],
      removalPolicy,
      ...props.bucketProps,
    });
    this.signingKey = new Key(this, 'SigningKey', {
      description:
        'JobEngine audit export manifests: ES256 signatures (kms:Sign), public key for offline verify',
      keySpec: SIGNING_KEY_SPEC,
      keyUsage: KeyUsage.SIGN_VERIFY,
      // asymmetric keys cannot rotate automatically; a new key is a new deployment (docs/deploy.md)
      enableKeyRotation: false,
      removalPolicy,
      pendingWindow: Duration.days(30),
    });
  }

  /** the variables the audit export code reads */
  get environment(): Record<string, string> {
    return {
      AUDIT_EXPORT_BUCKET: this.bucket.bucketName,
      AUDIT_SIGNING_KMS_KEY_ID: this.signingKey.keyArn,
    };
  }

  /**
   * Read, write and list export bundles; sign with the key and read its public key. Named actions only
   * (no `s3:GetObject*`-style wildcards), so cdk-nag has one finding to acknowledge: the object ARN.
   */
  grantExporter(exporter: LambdaFunction): void {
    exporter.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    exporter.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    this.signingKey.grant(exporter, ...SIGNING_ACTIONS);
    for (const [key, value] of Object.entries(this.environment)) exporter.addEnvironment(key, value);
    const stack = Stack.of(this);
    const bucketId: string = stack.resolve(stack.getLogicalId(this.bucket.node.defaultChild as CfnElement));
    Validations.of(exporter).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason:
        'Bundle object keys are chosen at run time (tenant and export id); the grant covers the objects of the export bucket only.',
    });
  }
}
