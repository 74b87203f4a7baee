import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GatewayStack } from '../../lib/gateway-stack.js';

/** The web console in the stack: S3 behind CloudFront, its headers, its deployment and the CORS it implies. */
const cdkJsonContext = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

let stack: GatewayStack;
let template: Template;

beforeAll(() => {
  // No Lambda bundling: this file is about the console (the build in console/dist is staged as it is).
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  stack = new GatewayStack(app, 'Gateway');
  template = Template.fromStack(stack);
}, 180_000);

const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const consoleOrigin = () => ({
  'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.consoleSite.distribution), 'DomainName'] }]],
});

describe('the console bucket', () => {
  it('is private, encrypted, TLS-only and logged', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.objectLike({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      }),
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 's3/' },
    });
  });

  it('is read only by this distribution, through origin access control', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    const policy = template.toJSON().Resources[logicalId(stack.consoleSite.bucket.policy!)].Properties.PolicyDocument.Statement as Array<
      Record<string, unknown>
    >;
    const reads = policy.filter((s) => s.Effect === 'Allow');
    expect(reads).toEqual([
      expect.objectContaining({
        Action: 's3:GetObject',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
      }),
    ]);
    expect(policy.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('aws:SecureTransport'))).toBe(true);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Origins: [
          Match.objectLike({
            OriginAccessControlId: { 'Fn::GetAtt': [Match.anyValue(), 'Id'] },
            S3OriginConfig: { OriginAccessIdentity: '' },
          }),
        ],
      }),
    });
  });
});

describe('the distribution', () => {
  it('redirects to HTTPS, sends the security headers and a CSP, and logs', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          AllowedMethods: ['GET', 'HEAD'],
          ResponseHeadersPolicyId: { Ref: Match.stringLikeRegexp('^ConsoleHeaders') },
          FunctionAssociations: [
            { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsoleRoutes'), 'FunctionARN'] } },
          ],
        }),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
    const config = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0].Properties
      .ResponseHeadersPolicyConfig;
    expect(config.SecurityHeadersConfig).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 31_536_000, IncludeSubdomains: true, Override: true },
    });
    const csp = JSON.stringify(config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
      'https://*.execute-api.',
      'https://*.lambda-url.',
    ]) {
      expect(csp).toContain(directive);
    }
    expect(config.CustomHeadersConfig.Items.map((h: { Header: string }) => h.Header).sort()).toEqual([
      'cross-origin-opener-policy',
      'permissions-policy',
    ]);
  });

  it('sends / to /console/ and client-side routes to index.html', () => {
    const fn = Object.values(template.findResources('AWS::CloudFront::Function'))[0];
    const code = fn.Properties.FunctionCode as string;
    expect(fn.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    // Run the function's own code against a few requests, in a context of its own.
    const handler = runInNewContext(`${code}\nhandler;`) as (e: { request: { uri: string } }) => { statusCode?: number; uri?: string };
    expect(handler({ request: { uri: '/' } })).toMatchObject({ statusCode: 302, headers: { location: { value: '/console/' } } });
    expect(handler({ request: { uri: '/console' } })).toMatchObject({ statusCode: 302 });
    expect(handler({ request: { uri: '/console/keys' } }).uri).toBe('/console/index.html');
    expect(handler({ request: { uri: '/console/threads/12' } }).uri).toBe('/console/index.html');
    expect(handler({ request: { uri: '/console/assets/index-abc.js' } }).uri).toBe('/console/assets/index-abc.js');
    expect(handler({ request: { uri: '/console/config.json' } }).uri).toBe('/console/config.json');
  });
});

describe('the deployment', () => {
  const deployments = () => Object.values(template.findResources('Custom::CDKBucketDeployment')).map((d) => d.Properties);

  it('uploads hashed assets cached for a year and never pruned', () => {
    expect(deployments()).toContainEqual(
      expect.objectContaining({
        DestinationBucketKeyPrefix: 'console/assets/',
        Prune: false,
        SystemMetadata: { 'cache-control': 'public, max-age=31536000, immutable' },
      }),
    );
  });

  it('uploads index.html and a config.json naming the HTTP API and chat function URLs, revalidated and invalidated', () => {
    const pages = deployments().find((d) => d.DestinationBucketKeyPrefix === 'console/');
    expect(pages).toMatchObject({
      Prune: false,
      SystemMetadata: { 'cache-control': 'no-cache' },
      DistributionPaths: ['/console/index.html', '/console/config.json'],
    });
    const markers = JSON.stringify(pages!.SourceMarkers);
    expect(markers).toContain(JSON.stringify({ Ref: logicalId(stack.httpApi.api) }));
    expect(markers).toContain(
      JSON.stringify({ 'Fn::GetAtt': [stack.getLogicalId(stack.chatUrl.node.defaultChild as CfnElement), 'FunctionUrl'] }),
    );
  });

  it('uploads the pages only after the assets they load', () => {
    type Resource = { Properties?: { DestinationBucketKeyPrefix?: string }; DependsOn?: string | string[] };
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const [pagesId] = Object.entries(resources).find(([, r]) => r.Properties?.DestinationBucketKeyPrefix === 'console/')!;
    const [assetsId] = Object.entries(resources).find(([, r]) => r.Properties?.DestinationBucketKeyPrefix === 'console/assets/')!;
    expect([resources[pagesId].DependsOn].flat()).toContain(assetsId);
  });
});

it("lets browsers call the APIs from the console's origin and no other", () => {
  template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.objectLike({ AllowOrigins: [consoleOrigin()] }) });
  template.hasResourceProperties('AWS::Lambda::Url', { Cors: Match.objectLike({ AllowOrigins: [consoleOrigin()] }) });
});

it('exports the console URL', () => {
  template.hasOutput('ConsoleUrl', {
    Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.consoleSite.distribution), 'DomainName'] }, '/console/']] },
  });
});
