import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ConsoleSite } from './constructs/console-site.js';
import { GatewayFunction } from './constructs/gateway-function.js';
import { GatewayHttpApi, type RouteThrottle } from './constructs/gateway-http-api.js';
import { GatewayTable } from './constructs/gateway-table.js';
import { TABLE_ACCESS } from '../lambdas/core/store/table-access.js';
import {
  BOT_SECRET_PURPOSE,
  DEFAULT_LARK_DOMAIN,
  FUNCTIONS,
  type FunctionSpec,
  SETTLE_QUEUE_RETENTION_DAYS,
} from '../lambdas/core/topology.js';

export interface GatewayStackProps extends StackProps {
  /**
   * Delete the table, admin key secret and log groups with the stack. Only for throwaway dev
   * stacks: by default they are retained and the table has deletion protection.
   * @default false
   */
  readonly destroyOnRemoval?: boolean;
  /**
   * Base URL of the Feishu/Lark open platform (e.g. https://open.larksuite.com for Lark).
   * @default https://open.feishu.cn
   */
  readonly larkDomain?: string;
  /**
   * A streamed answer's last frame goes out before its settlement is written (SETTLE_AFTER_LAST_BYTE): the whole
   * answer arrives 10–20 ms sooner, but a balance or record read in that instant may miss the call.
   * @default false
   */
  readonly settleAfterLastByte?: boolean;
  /**
   * Lambda concurrency reserved for (and capping) the admin, user and Feishu webhook functions, so that a flood of
   * chat streams cannot take the account's whole concurrency and lock the admins out; `false` reserves none (for an
   * account whose concurrency quota is too small to reserve from). See docs/quotas.md.
   * @default DEFAULT_RESERVED_CONCURRENCY
   */
  readonly reservedConcurrency?: Partial<ReservedConcurrency> | false;
  /**
   * Regions the chat and Feishu worker functions may call Bedrock in (include every region the cross-region inference
   * profiles in use route to). @default every region
   */
  readonly bedrockRegions?: string[];
  /** Model families (id prefix before the first dot: anthropic, amazon, cohere, meta, …) they may call. @default every family */
  readonly bedrockModelFamilies?: string[];
  /** Per-route throttles of the HTTP API (admin, user and webhook routes separately). @default DEFAULT_ROUTE_THROTTLES */
  readonly routeThrottles?: Partial<RouteThrottles>;
}

export interface ReservedConcurrency {
  readonly admin: number;
  readonly user: number;
  readonly feishuWebhook: number;
}

export interface RouteThrottles {
  readonly admin: RouteThrottle;
  readonly user: RouteThrottle;
  readonly feishuWebhook: RouteThrottle;
}

/** 40 of an account's default 1,000 concurrent executions; the rest stays unreserved for chat and the others. */
export const DEFAULT_RESERVED_CONCURRENCY: ReservedConcurrency = { admin: 10, user: 20, feishuWebhook: 10 };

/** Requests per second (steady, burst): far below API Gateway's account-wide 10,000 / 5,000 per region. */
export const DEFAULT_ROUTE_THROTTLES: RouteThrottles = {
  admin: { rateLimit: 20, burstLimit: 40 },
  user: { rateLimit: 50, burstLimit: 100 },
  feishuWebhook: { rateLimit: 50, burstLimit: 100 },
};

export class GatewayStack extends Stack {
  readonly table: GatewayTable;
  readonly adminKeySecret: secretsmanager.Secret;
  readonly sealingKeySecret: secretsmanager.Secret;
  readonly botSecretsKey: kms.Key;
  readonly chat: GatewayFunction;
  readonly admin: GatewayFunction;
  readonly user: GatewayFunction;
  readonly feishuWebhook: GatewayFunction;
  readonly feishuWorker: GatewayFunction;
  readonly settle: GatewayFunction;
  readonly settleQueue: sqs.Queue;
  readonly settleDeadLetters: sqs.Queue;
  readonly httpApi: GatewayHttpApi;
  readonly chatUrl: lambda.FunctionUrl;
  readonly consoleSite: ConsoleSite;

  constructor(scope: Construct, id: string, props: GatewayStackProps = {}) {
    super(scope, id, props);

    const removalPolicy = props.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const larkDomain = props.larkDomain ?? DEFAULT_LARK_DOMAIN;
    const reserved = props.reservedConcurrency === false ? undefined : { ...DEFAULT_RESERVED_CONCURRENCY, ...props.reservedConcurrency };
    const throttles = { ...DEFAULT_ROUTE_THROTTLES, ...props.routeThrottles };

    this.table = new GatewayTable(this, 'Table', { removalPolicy });

    this.adminKeySecret = new secretsmanager.Secret(this, 'AdminKey', {
      description: 'Bootstrap admin API key of the Bedrock gateway',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    Validations.of(this.adminKeySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The bootstrap admin key is an API key, not a credential of another service: it is rotated with ' +
        "the admin API's key reset, which a Secrets Manager rotation Lambda could not do consistently.",
    });

    // Seals what the gateway hands clients to send back unchanged (Responses reasoning as encrypted_content): only
    // the chat function reads it.
    this.sealingKeySecret = new secretsmanager.Secret(this, 'SealingKey', {
      description: 'Key material that seals Responses API reasoning (encrypted_content) handed to clients',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    Validations.of(this.sealingKeySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating it would invalidate every reasoning item clients hold (their next turn is a 400 until they start over); ' +
        'it is replaced by hand if ever exposed, and it protects no credential of another service.',
    });

    // Envelope-encrypts the Feishu bots' secrets in the table (core/store/secret-envelope.ts): the admin function
    // seals them (GenerateDataKey) and cannot open them; only the webhook and the worker may decrypt.
    this.botSecretsKey = new kms.Key(this, 'BotSecretsKey', {
      description: 'Envelope encryption of Feishu bot secrets (appSecret, encryptKey, verificationToken) in the gateway table',
      enableKeyRotation: true,
      removalPolicy,
    });
    const withSecretsKey = { SECRETS_KMS_KEY_ID: this.botSecretsKey.keyArn };

    // Entry, timeout, memory and description of each function come from lambdas/core/topology.ts, which the
    // local server mounts too.
    const gatewayFunction = (
      id: string,
      spec: FunctionSpec,
      environment: Record<string, string> = {},
      reservedConcurrentExecutions?: number,
    ) =>
      new GatewayFunction(this, id, {
        reservedConcurrentExecutions,
        entry: spec.entry,
        memorySize: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        description: spec.description,
        environment: { TABLE_NAME: this.table.tableName, ...environment },
        removalPolicy,
      });
    const withAdminKey = { ADMIN_KEY_SECRET_ARN: this.adminKeySecret.secretArn };

    // Settlements that fail in-line are queued and applied by the settle function (see core/billing/deferred.ts).
    // The visibility timeout is twice the settle function's: a failed message is retried within about a minute.
    this.settleDeadLetters = new sqs.Queue(this, 'SettleDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(SETTLE_QUEUE_RETENTION_DAYS),
    });
    Validations.of(this.settleDeadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the settle queue.',
    });
    this.settleQueue = new sqs.Queue(this, 'SettleQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(SETTLE_QUEUE_RETENTION_DAYS),
      visibilityTimeout: Duration.seconds(FUNCTIONS.settle.timeoutSeconds * 2),
      deadLetterQueue: { queue: this.settleDeadLetters, maxReceiveCount: 100 },
    });
    const withSettleQueue = { SETTLE_QUEUE_URL: this.settleQueue.queueUrl };

    this.chat = gatewayFunction('Chat', FUNCTIONS.chat, {
      ...withAdminKey,
      ...withSettleQueue,
      SEALING_KEY_SECRET_ARN: this.sealingKeySecret.secretArn,
      ...(props.settleAfterLastByte ? { SETTLE_AFTER_LAST_BYTE: '1' } : {}),
    });
    this.admin = gatewayFunction('Admin', FUNCTIONS.admin, { ...withAdminKey, ...withSecretsKey }, reserved?.admin);
    this.user = gatewayFunction('User', FUNCTIONS.user, withAdminKey, reserved?.user);
    this.feishuWorker = gatewayFunction('FeishuWorker', FUNCTIONS.feishuWorker, {
      LARK_DOMAIN: larkDomain,
      ...withSettleQueue,
      ...withSecretsKey,
    });
    this.settle = gatewayFunction('Settle', FUNCTIONS.settle);
    this.settle.function.addEventSource(new SqsEventSource(this.settleQueue, { batchSize: 10, reportBatchItemFailures: true }));
    for (const fn of [this.chat, this.feishuWorker]) this.settleQueue.grantSendMessages(fn.role);
    this.feishuWebhook = gatewayFunction(
      'FeishuWebhook',
      FUNCTIONS.feishuWebhook,
      {
        LARK_DOMAIN: larkDomain,
        FEISHU_WORKER_FUNCTION_NAME: this.feishuWorker.function.functionName,
        ...withSecretsKey,
      },
      reserved?.feishuWebhook,
    );

    // Each function only the item actions and key prefixes its code needs (core/store/table-access.ts).
    const byName = {
      chat: this.chat,
      admin: this.admin,
      user: this.user,
      feishuWebhook: this.feishuWebhook,
      feishuWorker: this.feishuWorker,
      settle: this.settle,
    } satisfies Record<keyof typeof TABLE_ACCESS, GatewayFunction>;
    for (const [name, fn] of Object.entries(byName)) fn.grantTableAccess(this.table, TABLE_ACCESS[name as keyof typeof TABLE_ACCESS]);
    for (const fn of [this.chat, this.admin, this.user]) this.adminKeySecret.grantRead(fn.role);
    this.sealingKeySecret.grantRead(this.chat.role);
    // Only for data keys of bot secrets (the encryption context every sealed secret carries).
    const botSecretsUse = (role: iam.IRole, action: string) =>
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [action],
          resources: [this.botSecretsKey.keyArn],
          conditions: { StringEquals: { 'kms:EncryptionContext:purpose': BOT_SECRET_PURPOSE } },
        }),
      );
    botSecretsUse(this.admin.role, 'kms:GenerateDataKey');
    for (const fn of [this.feishuWebhook, this.feishuWorker]) botSecretsUse(fn.role, 'kms:Decrypt');
    const bedrock = { regions: props.bedrockRegions, families: props.bedrockModelFamilies };
    this.chat.grantBedrockInvoke(bedrock);
    this.feishuWorker.grantBedrockInvoke(bedrock);

    // Asynchronous hand-off. No retries on errors: the worker should tell the user in the chat when
    // it fails, and a retry a minute later would post a second, late answer. (Its idempotency by
    // event id covers Lambda's occasional duplicate delivery.) Throttled events are still retried
    // by Lambda for up to maxEventAge; whatever fails lands in the queue for inspection.
    this.feishuWebhook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.feishuWorker.function.functionArn],
      }),
    );
    const failedFeishuEvents = new sqs.Queue(this, 'FeishuWorkerFailures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(failedFeishuEvents).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is itself the dead-letter destination of the Feishu worker's failed async invocations.",
    });
    this.feishuWorker.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(10),
      onFailure: new SqsDestination(failedFeishuEvents),
    });

    // The web console; browsers may call the APIs from its origin only.
    this.consoleSite = new ConsoleSite(this, 'Console', { removalPolicy });
    const browserOrigins = [this.consoleSite.origin];

    // /v1 is served straight from the function so that responses can stream (API Gateway buffers).
    this.chatUrl = this.chat.function.addFunctionUrl({
      // Anyone may call it: requests are authenticated by gateway API keys inside the function.
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      cors: {
        allowedOrigins: browserOrigins,
        allowedHeaders: ['authorization', 'content-type', 'x-api-key', 'session-id'],
        allowedMethods: [lambda.HttpMethod.GET, lambda.HttpMethod.POST, lambda.HttpMethod.DELETE],
      },
    });

    this.httpApi = new GatewayHttpApi(this, 'HttpApi', { removalPolicy, allowOrigins: browserOrigins });
    this.httpApi.addLambdaRoute('Admin', HttpMethod.ANY, '/admin/{proxy+}', this.admin.function, throttles.admin);
    this.httpApi.addLambdaRoute('User', HttpMethod.ANY, '/user/{proxy+}', this.user.function, throttles.user);
    this.httpApi.addLambdaRoute(
      'FeishuWebhook',
      HttpMethod.POST,
      '/bot/feishu/{id}/webhook',
      this.feishuWebhook.function,
      throttles.feishuWebhook,
    );

    this.consoleSite.publish({ apiBase: this.httpApi.url, chatBase: this.chatUrl.url });

    new CfnOutput(this, 'ConsoleUrl', { description: 'The web console (sign in with an API key)', value: this.consoleSite.url });
    new CfnOutput(this, 'ChatFunctionUrl', {
      description: 'OpenAI-compatible base URL (append v1/), streaming',
      value: this.chatUrl.url,
    });
    new CfnOutput(this, 'HttpApiUrl', {
      description: 'Base URL of /admin, /user and /bot/feishu/{id}/webhook',
      value: this.httpApi.url,
    });
    new CfnOutput(this, 'AdminKeySecretName', {
      description: 'Secrets Manager secret holding the bootstrap admin API key',
      value: this.adminKeySecret.secretName,
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
  }
}
