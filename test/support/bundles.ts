import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { GatewayStack } from '../../lib/gateway-stack.js';

/**
 * The cloud assembly whose bundles the bundle tests load and drive. CI synthesizes with `npm run synth` before
 * `npm test` and points GATEWAY_ASSEMBLY at cdk.out, so the tests run the very files CDK packages; without it
 * (a developer's `npm test`) the stack is synthesized here, with cdk.json's context, into a temporary folder
 * (real esbuild bundling, ~5 s).
 */
let cached: string | undefined;

export function cloudAssembly(): string {
  const given = process.env.GATEWAY_ASSEMBLY;
  if (given) return given;
  if (cached) return cached;
  const context = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;
  const outdir = mkdtempSync(join(tmpdir(), 'gateway-assembly-'));
  const app = new App({ outdir, context });
  new GatewayStack(app, 'BedrockGateway');
  app.synth();
  cached = outdir;
  return outdir;
}
