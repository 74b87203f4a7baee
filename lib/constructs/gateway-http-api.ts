import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Steady-state requests per second and burst of one route (API Gateway's token bucket). */
export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface GatewayHttpApiProps {
  /** Applies to the access log group. */
  readonly removalPolicy: RemovalPolicy;
  /** Browser origins admitted by CORS. @default ['*'] */
  readonly allowOrigins?: string[];
  /** The stage-wide default, for any route without its own throttle. @default 100 rps, burst 200 */
  readonly defaultThrottle?: RouteThrottle;
}

/** HTTP API context variables recorded per request (HTTP APIs accept only a single-line format). */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
};

/**
 * The buffered HTTP front door for /admin, /user and the bot webhooks. (/v1 chat is served by
 * the chat function's URL instead, because API Gateway cannot stream a response.)
 */
export class GatewayHttpApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;

  constructor(scope: Construct, id: string, props: GatewayHttpApiProps) {
    super(scope, id);

    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-api`,
      description: 'Bedrock gateway: admin, user and bot webhook routes',
      // Our own stage below, because the implicit default stage takes no logging or throttling.
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.allowOrigins ?? ['*'],
        allowHeaders: ['authorization', 'content-type', 'x-api-key'],
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.OPTIONS],
        maxAge: Duration.hours(1),
      },
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.defaultThrottle ?? { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
  }

  /** The stage URL, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }

  /**
   * Routes `method path` to `handler`; `name` identifies the integration within the API. With `throttle`, the route
   * has its own token bucket (a stage route setting), so a flood on one route does not use up the others' share.
   */
  addLambdaRoute(name: string, method: apigw.HttpMethod, path: string, handler: lambda.IFunction, throttle?: RouteThrottle): void {
    const routes = this.api.addRoutes({
      path,
      methods: [method],
      integration: new HttpLambdaIntegration(`${name}Integration`, handler),
    });
    for (const route of routes) {
      if (throttle) {
        const cfnStage = this.stage.node.defaultChild as apigw.CfnStage;
        cfnStage.addPropertyOverride(`RouteSettings.${method} ${path}`, {
          ThrottlingRateLimit: throttle.rateLimit,
          ThrottlingBurstLimit: throttle.burstLimit,
        });
        // A stage's route settings name routes that must already exist when the stage is created or updated.
        this.stage.node.addDependency(route);
      }
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Callers authenticate with gateway API keys (hashed in the table) checked inside the Lambda; ' +
          "bot webhooks are verified by the bot's Feishu token/signature. No IAM, JWT or Cognito authorizer fits.",
      });
    }
  }
}
