import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GatewayStack, type GatewayStackProps } from '../lib/gateway-stack.js';

const app = new App();

/** `-c destroyOnRemoval=true` arrives as a string, cdk.json values as booleans. */
const contextFlag = (key: string): boolean => String(app.node.tryGetContext(key) ?? false) === 'true';
/** An object in cdk.json, or a JSON string from `-c key='{"admin":5}'`. */
const contextObject = <T>(key: string): T | undefined => {
  const v: unknown = app.node.tryGetContext(key);
  return (typeof v === 'string' ? JSON.parse(v) : v) as T | undefined;
};

// Environment-agnostic: account and region come from the deploying credentials, so
// `cdk synth` needs neither credentials nor network.
new GatewayStack(app, 'BedrockGateway', {
  description: 'OpenAI-compatible LLM gateway for Amazon Bedrock',
  destroyOnRemoval: contextFlag('destroyOnRemoval'),
  larkDomain: (app.node.tryGetContext('larkDomain') as string | undefined) ?? undefined,
  settleAfterLastByte: contextFlag('settleAfterLastByte'),
  // e.g. -c reservedConcurrency='{"admin":5,"user":10,"feishuWebhook":5}' (or false), and
  // -c routeThrottles='{"user":{"rateLimit":100,"burstLimit":200}}' — docs/quotas.md
  reservedConcurrency: contextObject<GatewayStackProps['reservedConcurrency']>('reservedConcurrency'),
  routeThrottles: contextObject<GatewayStackProps['routeThrottles']>('routeThrottles'),
  // e.g. -c bedrockRegions='["us-east-1","us-west-2"]' -c bedrockModelFamilies='["anthropic","amazon"]'
  bedrockRegions: contextObject<string[]>('bedrockRegions'),
  bedrockModelFamilies: contextObject<string[]>('bedrockModelFamilies'),
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
