import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GatewayFunction } from '../../lib/constructs/gateway-function.js';
import { DEFAULT_RESERVED_CONCURRENCY, DEFAULT_ROUTE_THROTTLES, GatewayStack } from '../../lib/gateway-stack.js';

// The feature flags `cdk synth` runs with, so the template under test is the deployed one.
const cdkJsonContext = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

type Statement = { Action: string | string[]; Resource: unknown };

let stack: GatewayStack;
let template: Template;

// Real esbuild bundling of all five Lambdas happens here, once for the file.
beforeAll(() => {
  const app = new App({ context: cdkJsonContext });
  stack = new GatewayStack(app, 'Gateway');
  template = Template.fromStack(stack);
}, 180_000);

const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const functionArn = (fn: GatewayFunction) => ({ 'Fn::GetAtt': [logicalId(fn.function), 'Arn'] });
const allFunctions = () => ({
  chat: stack.chat,
  admin: stack.admin,
  user: stack.user,
  feishuWebhook: stack.feishuWebhook,
  feishuWorker: stack.feishuWorker,
  settle: stack.settle,
});

function statementsOf(fn: GatewayFunction): Statement[] {
  const roleRef = { Ref: logicalId(fn.role) };
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(JSON.stringify(roleRef)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (fn: GatewayFunction) => statementsOf(fn).flatMap((s) => [s.Action].flat());
const environmentOf = (fn: GatewayFunction) =>
  template.toJSON().Resources[logicalId(fn.function)].Properties.Environment.Variables as Record<string, unknown>;

describe('chat function', () => {
  it('is reachable through a public, streaming Function URL', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      TargetFunctionArn: functionArn(stack.chat),
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      Cors: {
        // Browsers only from the console's distribution (test/cdk/console-site.test.ts); other clients need no CORS.
        AllowOrigins: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.consoleSite.distribution), 'DomainName'] }]] }],
        AllowMethods: Match.arrayWith(['GET', 'POST', 'DELETE']),
        AllowHeaders: Match.arrayWith(['authorization', 'content-type', 'x-api-key', 'session-id']),
      },
    });
  });

  it('may run for 15 minutes with 1 GB', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: 900,
      MemorySize: 1024,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^ChatLogGroup') } },
    });
    expect(template.toJSON().Resources[logicalId(stack.chat.function)].Properties.Timeout).toBe(900);
  });
});

describe('all functions', () => {
  it('run Node.js 22 on arm64 from index.handler', () => {
    const resources = template.toJSON().Resources;
    const functions = Object.values(allFunctions()).map((fn) => resources[logicalId(fn.function)]);
    // The only other function is the CDK's own BucketDeployment handler that uploads the console.
    const others = Object.keys(template.findResources('AWS::Lambda::Function')).filter(
      (id) => !Object.values(allFunctions()).some((fn) => logicalId(fn.function) === id),
    );
    expect(others).toEqual([expect.stringMatching(/^CustomCDKBucketDeployment/)]);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
    }
  });

  it('receive the table name, logging settings and source maps', () => {
    for (const fn of Object.values(allFunctions())) {
      expect(environmentOf(fn)).toMatchObject({
        TABLE_NAME: { Ref: logicalId(stack.table) },
        POWERTOOLS_SERVICE_NAME: 'bedrock-gateway',
        LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('settle before the last frame unless the stack asks otherwise (settleAfterLastByte → SETTLE_AFTER_LAST_BYTE on chat only)', () => {
    for (const fn of Object.values(allFunctions())) expect(environmentOf(fn)).not.toHaveProperty('SETTLE_AFTER_LAST_BYTE');
    const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
    const after = new GatewayStack(app, 'After', { settleAfterLastByte: true });
    const t = Template.fromStack(after);
    const env = (fn: GatewayFunction) =>
      (t.toJSON().Resources[after.getLogicalId(fn.function.node.defaultChild as CfnElement)].Properties.Environment?.Variables ??
        {}) as Record<string, unknown>;
    expect(env(after.chat).SETTLE_AFTER_LAST_BYTE).toBe('1');
    for (const fn of [after.admin, after.user, after.feishuWorker, after.settle])
      expect(env(fn)).not.toHaveProperty('SETTLE_AFTER_LAST_BYTE');
  });

  it('give the sealing key secret (Responses reasoning) to the chat function only, read-only', () => {
    const secretRef = { Ref: logicalId(stack.sealingKeySecret) };
    const { chat, ...others } = allFunctions();
    expect(environmentOf(chat).SEALING_KEY_SECRET_ARN).toEqual(secretRef);
    const onSecret = statementsOf(chat).filter((s) => JSON.stringify(s.Resource).includes(JSON.stringify(secretRef)));
    expect(onSecret.flatMap((s) => [s.Action].flat()).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    for (const fn of Object.values(others)) {
      expect(environmentOf(fn)).not.toHaveProperty('SEALING_KEY_SECRET_ARN');
      expect(statementsOf(fn).some((s) => JSON.stringify(s.Resource).includes(JSON.stringify(secretRef)))).toBe(false);
    }
  });

  it('let only the Feishu webhook and worker decrypt bot secrets; the admin function may only seal them', () => {
    const keyArn = { 'Fn::GetAtt': [logicalId(stack.botSecretsKey), 'Arn'] };
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const kmsStatements = (fn: GatewayFunction) => statementsOf(fn).filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    const only = (action: string) => [
      {
        Effect: 'Allow',
        Action: action,
        Resource: keyArn,
        Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'feishu-bot-secret' } },
      },
    ];
    const { admin, feishuWebhook, feishuWorker, ...others } = allFunctions();
    for (const fn of [feishuWebhook, feishuWorker]) expect(kmsStatements(fn)).toEqual(only('kms:Decrypt'));
    expect(kmsStatements(admin)).toEqual(only('kms:GenerateDataKey'));
    for (const fn of [admin, feishuWebhook, feishuWorker]) expect(environmentOf(fn).SECRETS_KMS_KEY_ID).toEqual(keyArn);
    for (const fn of Object.values(others)) {
      expect(kmsStatements(fn)).toEqual([]);
      expect(environmentOf(fn)).not.toHaveProperty('SECRETS_KMS_KEY_ID');
    }
    // and nobody else in the template holds kms:Decrypt on it through a role policy
    const decrypters = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('kms:Decrypt'),
    );
    expect(
      decrypters.flatMap((p) => p.Properties.Roles).sort((a: { Ref: string }, b: { Ref: string }) => a.Ref.localeCompare(b.Ref)),
    ).toEqual([feishuWebhook, feishuWorker].map((fn) => ({ Ref: logicalId(fn.role) })).sort((a, b) => a.Ref.localeCompare(b.Ref)));
  });

  it('give the admin key secret only to chat, admin and user', () => {
    const secretRef = { Ref: logicalId(stack.adminKeySecret) };
    const { chat, admin, user, ...others } = allFunctions();
    for (const fn of [chat, admin, user]) {
      expect(environmentOf(fn).ADMIN_KEY_SECRET_ARN).toEqual(secretRef);
      expect(actionsOf(fn)).toContain('secretsmanager:GetSecretValue');
    }
    for (const fn of Object.values(others)) {
      expect(environmentOf(fn)).not.toHaveProperty('ADMIN_KEY_SECRET_ARN');
      expect(actionsOf(fn).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    }
  });
});

describe('table', () => {
  it('is one pay-per-request table keyed pk/sk with TTL, PITR and three generic GSIs', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: ['gsi1', 'gsi2', 'gsi3'].map((name) => ({
        IndexName: name,
        KeySchema: [
          { AttributeName: `${name}pk`, KeyType: 'HASH' },
          { AttributeName: `${name}sk`, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    });
  });

  it('survives stack deletion by default', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
  });

  it('is reached by each function only through the item actions and key prefixes it needs (pinned statements)', () => {
    const tableArn = { 'Fn::GetAtt': [logicalId(stack.table), 'Arn'] };
    const leading = (patterns: string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns } });
    const read = (patterns?: string[]) => ({
      Sid: 'ReadItems',
      Effect: 'Allow',
      Action: ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem'],
      Resource: tableArn,
      ...(patterns ? { Condition: leading(patterns) } : {}),
    });
    const write = (patterns?: string[]) => ({
      Sid: 'WriteItems',
      Effect: 'Allow',
      Action: ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: tableArn,
      ...(patterns ? { Condition: leading(patterns) } : {}),
    });
    const query = {
      Sid: 'Query',
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: [tableArn, { 'Fn::Join': ['', [tableArn, '/index/*']] }],
    };
    const bootstrap = ['APIKEY#*', 'BOOTSTRAP', 'COUNTER#*', 'KEYID#*'];
    const settlement = [
      'APIKEY#*',
      'CHARGE#*',
      'COUNTER#*',
      'SESSIONCOUNTS#*',
      'SESSIONKEY#*',
      'SESSIONS#*',
      'STATS#*',
      'THREADCOUNTS#*',
      'THREADS#*',
    ];
    const expected: Record<keyof ReturnType<typeof allFunctions>, unknown[]> = {
      admin: [read(), write(), query],
      chat: [read(), write([...new Set([...bootstrap, ...settlement, 'RESPONSE#*', 'RESPONSEITEM#*'])].sort()), query],
      user: [read(), write(bootstrap), query],
      feishuWebhook: [read(['BOT#*', 'FEISHUEVENT#*']), write(['FEISHUEVENT#*'])],
      feishuWorker: [read(), write([...settlement, 'FEISHUCHAT#*', 'FEISHUEVENT#*'].sort()), query],
      settle: [read(), write(settlement)],
    };
    for (const [name, fn] of Object.entries(allFunctions()) as Array<[keyof typeof expected, GatewayFunction]>) {
      const onTable = statementsOf(fn).filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
      expect(onTable, name).toEqual(expected[name]);
    }
    // No function may scan, read streams, or touch the table's configuration.
    for (const fn of Object.values(allFunctions())) {
      expect(
        actionsOf(fn).filter((a) => /^dynamodb:(Scan|DescribeTable|GetRecords|GetShardIterator|DescribeStream|ListStreams|\*)/.test(a)),
      ).toEqual([]);
    }
  });
});

describe('HTTP API', () => {
  const integrationTargetOf = (routeKey: string) => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }));
    expect(routes, routeKey).toHaveLength(1);
    const integrationId = routes[0].Properties.Target['Fn::Join'][1][1].Ref as string;
    return template.toJSON().Resources[integrationId].Properties.IntegrationUri;
  };

  it('routes admin, user and Feishu webhook paths to their functions', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 3);
    expect(integrationTargetOf('ANY /admin/{proxy+}')).toEqual(functionArn(stack.admin));
    expect(integrationTargetOf('ANY /user/{proxy+}')).toEqual(functionArn(stack.user));
    expect(integrationTargetOf('POST /bot/feishu/{id}/webhook')).toEqual(functionArn(stack.feishuWebhook));
  });

  it('logs access and throttles on the default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
    });
  });
});

describe('isolation between functions', () => {
  const reservedOf = (t: Template, fn: GatewayFunction) =>
    t.toJSON().Resources[logicalId(fn.function)].Properties.ReservedConcurrentExecutions as number | undefined;

  it('reserves concurrency for the admin, user and webhook functions, leaving chat and the rest to the unreserved pool', () => {
    expect(reservedOf(template, stack.admin)).toBe(DEFAULT_RESERVED_CONCURRENCY.admin);
    expect(reservedOf(template, stack.user)).toBe(DEFAULT_RESERVED_CONCURRENCY.user);
    expect(reservedOf(template, stack.feishuWebhook)).toBe(DEFAULT_RESERVED_CONCURRENCY.feishuWebhook);
    for (const fn of [stack.chat, stack.feishuWorker, stack.settle]) expect(reservedOf(template, fn)).toBeUndefined();
    // what docs/quotas.md assumes: well under the default account quota of 1,000, keeping 900+ unreserved
    expect(Object.values(DEFAULT_RESERVED_CONCURRENCY).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100);
  });

  it('throttles the admin, user and webhook routes separately, each under the stage default', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    expect(stage.Properties.RouteSettings).toEqual({
      'ANY /admin/{proxy+}': { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
      'ANY /user/{proxy+}': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      'POST /bot/feishu/{id}/webhook': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    expect(DEFAULT_ROUTE_THROTTLES.admin.rateLimit).toBe(20);
    // the routes exist before the stage that names them
    const routeIds = Object.keys(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(stage.DependsOn).toEqual(expect.arrayContaining(routeIds));
  });

  it('takes other values, or no reservation, from the stack props (cdk context)', () => {
    const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
    const custom = new GatewayStack(app, 'Custom', {
      reservedConcurrency: { admin: 3 },
      routeThrottles: { feishuWebhook: { rateLimit: 5, burstLimit: 7 } },
    });
    const t = Template.fromStack(custom);
    const id = (c: IConstruct) => custom.getLogicalId(c.node.defaultChild as CfnElement);
    const reserved = (fn: GatewayFunction) => t.toJSON().Resources[id(fn.function)].Properties.ReservedConcurrentExecutions;
    expect([reserved(custom.admin), reserved(custom.user), reserved(custom.feishuWebhook)]).toEqual([3, 20, 10]);
    const routeSettings = Object.values(t.findResources('AWS::ApiGatewayV2::Stage'))[0].Properties.RouteSettings;
    expect(routeSettings['POST /bot/feishu/{id}/webhook']).toEqual({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 7 });
    expect(routeSettings['ANY /admin/{proxy+}']).toEqual({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 });

    const none = new GatewayStack(new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } }), 'None', {
      reservedConcurrency: false,
    });
    for (const fn of Object.values(Template.fromStack(none).findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });
});

describe('Bedrock permissions', () => {
  it('narrow to the configured regions and model families (stack props / cdk context)', () => {
    const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
    const narrow = new GatewayStack(app, 'Narrow', { bedrockRegions: ['us-east-1', 'us-west-2'], bedrockModelFamilies: ['anthropic'] });
    const t = Template.fromStack(narrow);
    const roleRef = JSON.stringify({ Ref: narrow.getLogicalId(narrow.chat.role.node.defaultChild as CfnElement) });
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleRef))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const bedrock = statements.find((s) => [s.Action].flat().includes('bedrock:InvokeModel'))!;
    const arns = (bedrock.Resource as Array<{ 'Fn::Join': [string, unknown[]] }>)
      .map((r) => r['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : '<ref>')).join(''))
      .sort();
    expect(arns).toEqual(
      ['us-east-1', 'us-west-2']
        .flatMap((r) => [
          `arn:<ref>:bedrock:${r}:<ref>:application-inference-profile/*`,
          `arn:<ref>:bedrock:${r}:<ref>:inference-profile/*.anthropic.*`,
          `arn:<ref>:bedrock:${r}::foundation-model/anthropic.*`,
        ])
        .sort(),
    );
  });

  it('are granted to the chat and Feishu worker roles only', () => {
    const { chat, feishuWorker, ...others } = allFunctions();
    for (const fn of [chat, feishuWorker]) {
      const bedrock = statementsOf(fn).filter((s) => [s.Action].flat().some((a) => a.startsWith('bedrock:')));
      expect(bedrock).toHaveLength(1);
      expect([bedrock[0].Action].flat().sort()).toEqual(['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream']);
      const resources = JSON.stringify(bedrock[0].Resource);
      for (const arn of [':bedrock:*::foundation-model/*', ':inference-profile/*', ':application-inference-profile/*']) {
        expect(resources).toContain(arn);
      }
    }
    for (const fn of Object.values(others)) {
      expect(actionsOf(fn).filter((a) => a.startsWith('bedrock:'))).toEqual([]);
    }
  });
});

describe('Feishu hand-off', () => {
  it('lets the webhook invoke only the worker, named in its environment', () => {
    const invokes = statementsOf(stack.feishuWebhook).filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invokes).toEqual([expect.objectContaining({ Resource: functionArn(stack.feishuWorker) })]);
    expect(environmentOf(stack.feishuWebhook)).toMatchObject({
      FEISHU_WORKER_FUNCTION_NAME: { Ref: logicalId(stack.feishuWorker.function) },
      LARK_DOMAIN: 'https://open.feishu.cn',
    });
    expect(environmentOf(stack.feishuWorker)).toMatchObject({ LARK_DOMAIN: 'https://open.feishu.cn' });
    const { feishuWebhook: _webhook, ...others } = allFunctions();
    for (const fn of Object.values(others)) expect(actionsOf(fn).filter((a) => a.startsWith('lambda:'))).toEqual([]);
  });

  it('does not retry the worker and keeps failed events in a queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack.feishuWorker.function) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FeishuWorkerFailures'), 'Arn'] } } },
    });
  });
});

describe('deferred settlement', () => {
  it('queues settlements that failed in-line, for the settle function, with a dead-letter queue', () => {
    const queue = template.toJSON().Resources[logicalId(stack.settleQueue)].Properties;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 60,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.settleDeadLetters), 'Arn'] }, maxReceiveCount: 100 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack.settle.function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.settleQueue), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets only the functions that answer calls send to the queue, named in their environment', () => {
    const { chat, feishuWorker, ...others } = allFunctions();
    for (const fn of [chat, feishuWorker]) {
      expect(environmentOf(fn).SETTLE_QUEUE_URL).toEqual({ Ref: logicalId(stack.settleQueue) });
      expect(actionsOf(fn)).toContain('sqs:SendMessage');
    }
    for (const fn of Object.values(others)) expect(actionsOf(fn)).not.toContain('sqs:SendMessage');
    expect(actionsOf(stack.settle)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
  });
});

it('exports the URLs, the admin key secret name and the table name', () => {
  for (const name of ['ChatFunctionUrl', 'HttpApiUrl', 'AdminKeySecretName', 'TableName']) {
    template.hasOutput(name, { Value: Match.anyValue() });
  }
  template.hasOutput('ChatFunctionUrl', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('FunctionUrl'), 'FunctionUrl'] } });
});

it('passes the cdk-nag AwsSolutions checks, every exception acknowledged with a reason', () => {
  const report = new AwsSolutionsChecks().validateScope(stack);
  const findings = report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
  expect(findings).toEqual([]);
});

it('lets a dev stack be destroyed with its data', () => {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const dev = Template.fromStack(new GatewayStack(app, 'Dev', { destroyOnRemoval: true, larkDomain: 'https://open.larksuite.com' }));
  dev.hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Delete',
    Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
  });
  dev.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
  dev.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  dev.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ LARK_DOMAIN: 'https://open.larksuite.com' }) },
  });
});
