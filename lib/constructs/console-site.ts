import { join } from 'node:path';
import { Aws, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { ensureConsoleBuilt } from '../../console/ensure-built.js';
import { CONSOLE_SECURITY_HEADERS, consoleCsp } from '../../console/security-headers.js';

export interface ConsoleSiteProps {
  /** Applies to both buckets (the site's files can always be deployed again). */
  readonly removalPolicy: RemovalPolicy;
  /**
   * The built console (index.html and assets/). By default console/dist, built at synth when it is missing or
   * older than its sources (Vite: offline, no Docker).
   */
  readonly distDir?: string;
}

export interface ConsoleApis {
  /** Base URL of /admin and /user (the HTTP API stage URL). */
  readonly apiBase: string;
  /** Base URL of /v1 (the chat function URL). */
  readonly chatBase: string;
}

/** The console lives under this path on its distribution, as it does under `npm start`. */
const PREFIX = 'console';

/**
 * The web console on S3 behind CloudFront: a private bucket read only through origin access control, the security
 * headers and CSP that npm start sends too (console/security-headers.ts), and a viewer-request function that
 * sends `/` to `/console/` and answers client-side routes with index.html. `publish()` deploys the build with a
 * config.json naming the API base URLs, which the console reads at run time.
 */
export class ConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://<id>.cloudfront.net`: the one browser origin the APIs admit by CORS. */
  readonly origin: string;
  /** The console's address, for the ConsoleUrl output. */
  readonly url: string;
  private readonly distDir: string;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    this.distDir = props.distDir ?? ensureConsoleBuilt({ log: (line) => process.stderr.write(`${line}\n`) });
    const destroy = props.removalPolicy === RemovalPolicy.DESTROY;

    // Access logs of the site bucket and of the distribution. CloudFront's standard logs need ACLs on the bucket.
    const logs = new s3.Bucket(this, 'Logs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access log bucket itself; logging it into itself would loop and another bucket would only move the question.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 's3/',
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Bedrock gateway console: security headers and CSP',
      securityHeadersBehavior: {
        // The APIs are on their own AWS hosts. Their exact names cannot appear here: each API admits this
        // distribution by CORS, and naming them back would make a dependency cycle. Regional wildcards of the
        // two AWS API host kinds keep every other host out.
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleCsp([
            `https://*.execute-api.${Aws.REGION}.amazonaws.com`,
            `https://*.lambda-url.${Aws.REGION}.on.aws`,
          ]),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
      customHeadersBehavior: {
        customHeaders: ['cross-origin-opener-policy', 'permissions-policy'].map((header) => ({
          header,
          value: CONSOLE_SECURITY_HEADERS[header],
          override: true,
        })),
      },
    });

    const routes = new cloudfront.Function(this, 'Routes', {
      comment: 'Bedrock gateway console: / to /console/, client-side routes to index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(
        [
          'function handler(event) {',
          '  var uri = event.request.uri;',
          `  if (uri === '/' || uri === '/${PREFIX}') {`,
          `    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '/${PREFIX}/' } } };`,
          '  }',
          `  if (uri.indexOf('/${PREFIX}/') === 0 && uri.slice(uri.lastIndexOf('/') + 1).indexOf('.') === -1) {`,
          `    event.request.uri = '/${PREFIX}/index.html';`,
          '  }',
          '  return event.request;',
          '}',
        ].join('\n'),
      ),
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Bedrock gateway web console',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        // Honours the objects' Cache-Control: a year for hashed assets, revalidation for index.html and config.json.
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        functionAssociations: [{ function: routes, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'The console is a static admin UI used from wherever the operators are; every API call it makes is authenticated by a gateway key.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves only static, public build files (no secrets, no server-side logic); the APIs authenticate every call. A WAF web ACL can be attached when an operator wants one.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses the default *.cloudfront.net certificate, whose viewer TLS policy CloudFront fixes; a minimum protocol version can only be set together with a custom domain and certificate.',
      },
    );

    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.url = `${this.origin}/${PREFIX}/`;
  }

  /**
   * Deploys the build: hashed assets first (cached for a year, never pruned, so open tabs of the previous version
   * keep loading theirs), then index.html and config.json (revalidated on every load), then an invalidation of
   * those two.
   */
  publish(apis: ConsoleApis): void {
    const assets = new s3deploy.BucketDeployment(this, 'DeployAssets', {
      sources: [s3deploy.Source.asset(join(this.distDir, 'assets'))],
      destinationBucket: this.bucket,
      destinationKeyPrefix: `${PREFIX}/assets/`,
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
      prune: false,
    });
    const pages = new s3deploy.BucketDeployment(this, 'DeployPages', {
      sources: [
        s3deploy.Source.asset(this.distDir, { exclude: ['assets', 'assets/**'] }),
        s3deploy.Source.jsonData('config.json', { apiBase: apis.apiBase, chatBase: apis.chatBase }),
      ],
      destinationBucket: this.bucket,
      destinationKeyPrefix: `${PREFIX}/`,
      cacheControl: [s3deploy.CacheControl.fromString('no-cache')],
      prune: false,
      distribution: this.distribution,
      distributionPaths: [`/${PREFIX}/index.html`, `/${PREFIX}/config.json`],
    });
    pages.node.addDependency(assets);
    this.acknowledgeDeploymentHandler();
  }

  /** BucketDeployment's copy function is one per stack, created by the CDK outside this construct. */
  private acknowledgeDeploymentHandler(): void {
    const stack = Stack.of(this);
    const handler = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) return;
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as CfnElement);
    const copyReason =
      "The CDK's BucketDeployment handler copies the build from the CDK asset bucket into the console bucket at deploy time; " +
      'its grants (read the staged asset objects, write and list the console bucket) are the ones the CDK generates for that copy.';
    Validations.of(handler).acknowledge(
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: copyReason,
      })),
      ...[`<${bucketId}.Arn>/*`, 'arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*'].map((resource) => ({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: copyReason,
      })),
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudfront:CreateInvalidation and GetInvalidation after a deployment: CloudFront invalidations take no narrower resource in the CDK-generated policy.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "The CDK's BucketDeployment handler runs only at deploy time and logs with the AWS basic execution policy; its role is created by the CDK.",
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          "The runtime of the CDK's own BucketDeployment handler is chosen by the CDK version in package-lock.json; it runs only during deployments.",
      },
    );
  }
}
