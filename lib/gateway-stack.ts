import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ConsoleSite } from './constructs/console-site.js';
import { GatewayFunction, type GatewayFunctionProps } from './constructs/gateway-function.js';
import { GatewayHttpApi } from './constructs/gateway-http-api.js';
import { GatewayTable } from './constructs/gateway-table.js';

const DEFAULT_LARK_DOMAIN = 'https://open.feishu.cn';

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
}

type FunctionOptions = Omit<GatewayFunctionProps, 'environment' | 'removalPolicy'> & {
  readonly environment?: Record<string, string>;
};

export class GatewayStack extends Stack {
  readonly table: GatewayTable;
  readonly adminKeySecret: secretsmanager.Secret;
  readonly chat: GatewayFunction;
  readonly admin: GatewayFunction;
  readonly user: GatewayFunction;
  readonly feishuWebhook: GatewayFunction;
  readonly feishuWorker: GatewayFunction;
  readonly httpApi: GatewayHttpApi;
  readonly chatUrl: lambda.FunctionUrl;
  readonly consoleSite: ConsoleSite;

  constructor(scope: Construct, id: string, props: GatewayStackProps = {}) {
    super(scope, id, props);

    const removalPolicy = props.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const larkDomain = props.larkDomain ?? DEFAULT_LARK_DOMAIN;

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
        'the admin API\'s key reset, which a Secrets Manager rotation Lambda could not do consistently.',
    });

    const gatewayFunction = (id: string, options: FunctionOptions) =>
      new GatewayFunction(this, id, {
        ...options,
        environment: { TABLE_NAME: this.table.tableName, ...options.environment },
        removalPolicy,
      });
    const withAdminKey = { ADMIN_KEY_SECRET_ARN: this.adminKeySecret.secretArn };

    this.chat = gatewayFunction('Chat', {
      entry: 'lambdas/chat/index.ts',
      memorySize: 1024,
      // Long generations (reasoning models, big max_tokens) stream for minutes.
      timeout: Duration.minutes(15),
      description: 'OpenAI-compatible /v1 API streaming from Bedrock',
      environment: withAdminKey,
    });
    this.admin = gatewayFunction('Admin', {
      entry: 'lambdas/admin/index.ts',
      memorySize: 512,
      timeout: Duration.seconds(30),
      description: 'Admin API: keys, models, groups, bots, records',
      environment: withAdminKey,
    });
    this.user = gatewayFunction('User', {
      entry: 'lambdas/user/index.ts',
      memorySize: 512,
      timeout: Duration.seconds(30),
      description: "User API: the caller's own key, models and records",
      environment: withAdminKey,
    });
    this.feishuWorker = gatewayFunction('FeishuWorker', {
      entry: 'lambdas/feishu/worker.ts',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      description: 'Answers a Feishu message with a model, streaming into a card',
      environment: { LARK_DOMAIN: larkDomain },
    });
    this.feishuWebhook = gatewayFunction('FeishuWebhook', {
      entry: 'lambdas/feishu/webhook.ts',
      memorySize: 256,
      // Feishu wants an answer within 3 s; the webhook only verifies, de-duplicates and hands off.
      timeout: Duration.seconds(10),
      description: 'Feishu event webhook: verify, de-duplicate, hand off to the worker',
      environment: {
        LARK_DOMAIN: larkDomain,
        FEISHU_WORKER_FUNCTION_NAME: this.feishuWorker.function.functionName,
      },
    });

    // The user API's routes only read, but the shared authentication path writes: it creates the
    // bootstrap admin key row when this function happens to serve the first request after a deploy.
    for (const fn of [this.chat, this.admin, this.user, this.feishuWebhook, this.feishuWorker]) {
      fn.grantTableReadWrite(this.table);
    }
    for (const fn of [this.chat, this.admin, this.user]) this.adminKeySecret.grantRead(fn.role);
    this.chat.grantBedrockInvoke();
    this.feishuWorker.grantBedrockInvoke();

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
      reason: 'This queue is itself the dead-letter destination of the Feishu worker\'s failed async invocations.',
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
        allowedMethods: [lambda.HttpMethod.GET, lambda.HttpMethod.POST],
      },
    });

    this.httpApi = new GatewayHttpApi(this, 'HttpApi', { removalPolicy, allowOrigins: browserOrigins });
    this.httpApi.addLambdaRoute('Admin', HttpMethod.ANY, '/admin/{proxy+}', this.admin.function);
    this.httpApi.addLambdaRoute('User', HttpMethod.ANY, '/user/{proxy+}', this.user.function);
    this.httpApi.addLambdaRoute('FeishuWebhook', HttpMethod.POST, '/bot/feishu/{id}/webhook', this.feishuWebhook.function);

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
