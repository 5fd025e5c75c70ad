import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  AssetHashType,
  type CfnElement,
  DockerImage,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  AllowedMethods,
  CachePolicy,
  Function as CloudFrontFunction,
  Distribution,
  type DistributionProps,
  FunctionCode,
  FunctionEventType,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { RestApiOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type BucketProps,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, type ISource, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

export interface ConsoleSiteProps {
  /** the repository root (console/ is built from it) */
  readonly projectRoot: string;
  /**
   * The REST API: served by the same distribution under /api/* and /.well-known/*, so the Console calls
   * its own origin (no CORS, the token never leaves for another host).
   */
  readonly restApi?: RestApi;
  /** the WebSocket stage URL (wss://…/stage), written to the Console's config.json */
  readonly webSocketUrl?: string;
  /** the built Console; default: `vite build` of console/ at synth time */
  readonly source?: ISource;
  /** overrides for the bucket */
  readonly bucketProps?: BucketProps;
  /** overrides for the distribution */
  readonly distributionProps?: Partial<DistributionProps>;
}

/** The Content-Security-Policy the local runtime sends too (local/console-assets.ts). */
export const CONSOLE_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss: http: https:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/**
 * The operator Console on S3 + CloudFront: a private, encrypted, TLS-only bucket read by CloudFront through
 * origin access control; the files under /console/ (the Vite base), `config.json` with the API and
 * WebSocket URLs next to them; security headers on every answer; /api/* proxied to the REST API uncached.
 */
export class ConsoleSite extends Construct {
  readonly bucket: Bucket;
  /** server access logs of the bucket and standard logs of the distribution */
  readonly logBucket: Bucket;
  readonly distribution: Distribution;
  /** https://<distribution>/console/ */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    this.logBucket = new Bucket(this, 'Logs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // CloudFront standard logging writes with object ACLs
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The bucket that receives the access logs does not log its own access.',
    });
    this.bucket = new Bucket(this, 'Bucket', {
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'bucket/',
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
      ...props.bucketProps,
    });

    const headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: CONSOLE_CONTENT_SECURITY_POLICY, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });

    const api = props.restApi
      ? {
          origin: new RestApiOrigin(props.restApi),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        }
      : undefined;

    // S3 has no directory index: `/` and `/console/` (and bookmarks below it) get the Console's index.html.
    // Custom error pages would do it too, but they apply to the whole distribution, API errors included.
    const index = new CloudFrontFunction(this, 'Index', {
      comment: 'JobEngine Console: directory requests get index.html',
      code: FunctionCode.fromInline(
        `function handler(event) {
  var request = event.request;
  if (request.uri === '/' || request.uri === '/console') {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: '/console/' } } };
  }
  if (request.uri.startsWith('/console/') && request.uri.slice(request.uri.lastIndexOf('/')).indexOf('.') < 0) {
    request.uri = '/console/index.html';
  }
  return request;
}`,
      ),
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'JobEngine operator Console',
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        compress: true,
        functionAssociations: [{ function: index, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: api ? { '/api/*': api, '/.well-known/*': api } : {},
      ...props.distributionProps,
    });
    this.url = `https://${this.distribution.distributionDomainName}/console/`;
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate fixes the viewer TLS policy; give distributionProps a certificate and domainNames (and minimumProtocolVersion) for a custom domain.',
      },
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Operators sign in with tokens from anywhere; no geography is excluded by design.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Static files and an API that authenticates every request; attach a web ACL through distributionProps.webAclId where policy asks for one.',
      },
    );

    new BucketDeployment(this, 'Deployment', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: 'console/',
      sources: [
        props.source ?? consoleBuild(props.projectRoot),
        // Same origin for the REST API when it is proxied; the WebSocket API has its own domain.
        Source.jsonData('config.json', { apiUrl: '', wsUrl: props.webSocketUrl ?? '' }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/console/index.html', '/console/config.json'],
      memoryLimit: 512,
    });
    // The deployment's handler is a stack-level singleton of aws-cdk-lib (Custom::CDKBucketDeployment…).
    for (const child of Stack.of(this).node.children) {
      if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      Validations.of(child).acknowledge(
        {
          id: 'AwsSolutions-L1',
          reason:
            "aws-cdk-lib's BucketDeployment handler picks its own runtime; it runs at deploy time only.",
        },
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: 'The AWS-managed policy grants exactly the CloudWatch Logs writes the handler needs.',
        },
        ...[
          'Action::s3:GetBucket*',
          'Action::s3:GetObject*',
          'Action::s3:List*',
          'Action::s3:Abort*',
          'Action::s3:DeleteObject*',
          'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
          'Resource::*',
          `Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>/*`,
        ].map((finding) => ({
          id: `AwsSolutions-IAM5[${finding}]`,
          reason:
            "aws-cdk-lib's BucketDeployment grants: read the staged asset, replace the Console's objects, invalidate the distribution (CloudFront invalidations take no resource).",
        })),
      );
    }
  }
}

/** `vite build` of console/ at synth time, hashed by its output (the Console also imports cli/src/api). */
function consoleBuild(projectRoot: string): ISource {
  return Source.asset(join(projectRoot, 'console'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('node:22-slim'),
      local: {
        tryBundle(outputDir) {
          execFileSync(
            process.execPath,
            [
              join(projectRoot, 'node_modules/vite/bin/vite.js'),
              'build',
              '--config',
              join(projectRoot, 'console/vite.config.ts'),
              '--outDir',
              outputDir,
              '--emptyOutDir',
              '--logLevel',
              'warn',
            ],
            { cwd: projectRoot, stdio: 'inherit' },
          );
          return true;
        },
      },
    },
  });
}
