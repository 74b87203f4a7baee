import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GatewayStack } from '../lib/gateway-stack.js';

const app = new App();

/** `-c destroyOnRemoval=true` arrives as a string, cdk.json values as booleans. */
const contextFlag = (key: string): boolean => String(app.node.tryGetContext(key) ?? false) === 'true';

// Environment-agnostic: account and region come from the deploying credentials, so
// `cdk synth` needs neither credentials nor network.
new GatewayStack(app, 'BedrockGateway', {
  description: 'OpenAI-compatible LLM gateway for Amazon Bedrock',
  destroyOnRemoval: contextFlag('destroyOnRemoval'),
  larkDomain: (app.node.tryGetContext('larkDomain') as string | undefined) ?? undefined,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
