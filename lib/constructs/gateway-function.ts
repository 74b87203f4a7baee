import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { type CfnElement, type CfnResource, type Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { leadingKeyPatterns, type TableAccess } from '../../lambdas/core/store/table-access.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * CommonJS dependencies bundled into an ESM file still expect the CommonJS module scope: `require` for Node
 * built-ins (the Lark SDK, parts of the AWS SDK) and `__dirname` / `__filename` (the Lark SDK's dependencies read
 * `__dirname` at load, which crashed the Feishu worker with "__dirname is not defined in ES module scope"). The
 * banner defines all three from `import.meta.url`, so every bundle stays one self-contained ESM file: no
 * node_modules to ship, and the same output format for every function. The aliases keep the banner's own
 * imports from clashing with names inside the bundle.
 */
const ESM_COMMONJS_BANNER = [
  "import { createRequire as __gwCreateRequire } from 'node:module';",
  "import { fileURLToPath as __gwFileURLToPath } from 'node:url';",
  "import { dirname as __gwDirname } from 'node:path';",
  'const require = __gwCreateRequire(import.meta.url);',
  'const __filename = __gwFileURLToPath(import.meta.url);',
  'const __dirname = __gwDirname(__filename);',
].join(' ');

/** Template metadata naming a function's entry file, so tooling can find a function's bundle by its source. */
const ENTRY_METADATA_KEY = 'gateway:entry';

/** Where the chat functions may call Bedrock (stack props `bedrockRegions`, `bedrockModelFamilies`). */
export interface BedrockScope {
  /** e.g. ['us-east-1', 'us-west-2']; default every region. */
  readonly regions?: readonly string[];
  /** Model id prefixes before the first dot, e.g. ['anthropic', 'amazon', 'cohere']; default every family. */
  readonly families?: readonly string[];
}

export interface GatewayFunctionProps {
  /** Handler file relative to the repository root, exporting `handler`. */
  readonly entry: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly description: string;
  /** Variables on top of the ones every gateway function receives. */
  readonly environment: Record<string, string>;
  /** Applies to the function's log group. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Concurrency reserved for (and capping) this function, so that a flood of another function's calls cannot take
   * all of the account's concurrency. @default none (the account's unreserved pool)
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A gateway Lambda: Node.js 22 on arm64, bundled locally by esbuild into one ESM file
 * (AWS SDK included, so its version is the one in package-lock.json, not the runtime's),
 * with its own log group and a role that starts with nothing but write access to it.
 */
export class GatewayFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GatewayFunctionProps) {
    super(scope, id);

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    // A dedicated role instead of AWSLambdaBasicExecutionRole, whose logs:* on * is broader
    // than writing to the one log group above.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'bedrock-gateway',
        LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_COMMONJS_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        externalModules: [],
        forceDockerBundling: false,
      },
    });
    (this.function.node.defaultChild as CfnResource).addMetadata(ENTRY_METADATA_KEY, props.entry);
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is a supported LTS runtime, chosen to stay close to the Node 20 the code is developed ' +
        'and tested on locally; moving to nodejs24.x is a separate, deliberate upgrade.',
    });
  }

  /**
   * Converse/ConverseStream/InvokeModel (the two invoke actions) on foundation models and this account's inference
   * profiles, in `regions` (default every region) and of the model `families` (default every family: a model's id is
   * configured at run time in the table, so the stack cannot know it; a deployment that knows its providers narrows
   * both with the stack props). Cross-region inference profiles route a call to a foundation model in another region
   * of their geography, so `regions` must include every region the profiles in use route to.
   */
  grantBedrockInvoke(scope: BedrockScope = {}): void {
    const { partition, account } = Stack.of(this);
    const regions = scope.regions?.length ? scope.regions : ['*'];
    // A profile's id is its geography prefix (us., eu., apac., global.) before the model id, e.g. us.anthropic.claude-…
    const families = scope.families?.length ? scope.families : undefined;
    const resources = regions.flatMap((region) => [
      ...(families ?? ['*']).map((f) => `arn:${partition}:bedrock:${region}::foundation-model/${f === '*' ? '*' : `${f}.*`}`),
      ...(families ?? ['*']).map((f) => `arn:${partition}:bedrock:${region}:${account}:inference-profile/${f === '*' ? '*' : `*.${f}.*`}`),
      // Application inference profiles have opaque ids: which model they wrap is not in the ARN.
      `arn:${partition}:bedrock:${region}:${account}:application-inference-profile/*`,
    ]);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeBedrock',
        actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        resources,
      }),
    );
    const nagName = (arn: string) =>
      arn.replace(`arn:${partition}:`, 'arn:<AWS::Partition>:').replace(`:${account}:`, ':<AWS::AccountId>:');
    Validations.of(this.role).acknowledge(
      ...resources.map((resource) => ({
        id: `AwsSolutions-IAM5[Resource::${nagName(resource)}]`,
        reason:
          'Which Bedrock models a key may call is configured at run time (model rows in the table) and ' +
          'cross-region inference profiles route to any region of their geography, so the grant covers the models and ' +
          "profiles of the configured regions and families (all by default); it is limited to the two invoke actions and to this account's profiles.",
      })),
    );
  }

  /**
   * Only the item actions this function's code uses (core/store/table-access.ts): reads and writes on the table,
   * limited by `dynamodb:LeadingKeys` to the partition-key prefixes it needs, and queries on the table and its indexes
   * when it lists anything. No Scan, no stream or control-plane actions.
   */
  grantTableAccess(table: dynamodb.Table, access: TableAccess): void {
    const leadingKeys = (entities: TableAccess['reads']) =>
      entities === 'all' ? undefined : { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeyPatterns(entities) } };
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadItems',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem'],
        resources: [table.tableArn],
        conditions: leadingKeys(access.reads),
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteItems',
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
        resources: [table.tableArn],
        conditions: leadingKeys(access.writes),
      }),
    );
    if (access.queries) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'Query', actions: ['dynamodb:Query'], resources: [table.tableArn, `${table.tableArn}/index/*`] }),
      );
      const tableLogicalId = Stack.of(table).getLogicalId(table.node.defaultChild as CfnElement);
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
        reason: "Queries go through the GSIs of the gateway table; `index/*` names only that table's own indexes.",
      });
    }
  }
}
