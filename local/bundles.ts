import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The Lambda bundles of a synthesized cloud assembly (`cdk synth` → cdk.out), found the way the stack deploys
 * them: every `AWS::Lambda::Function` of every template, its code asset directory and its `file.export`
 * handler. Functions are named by the `gateway:entry` metadata the GatewayFunction construct writes, so the
 * local server can run the deployed bundle of a given entry point.
 */
export interface LambdaBundle {
  /** The template's logical id. */
  logicalId: string;
  /** Source entry point, e.g. `lambdas/chat/index.ts` (undefined for functions not built by GatewayFunction). */
  entry: string | undefined;
  /** Directory holding the asset as Lambda unpacks it into /var/task. */
  assetDir: string;
  /** The handler file inside assetDir (index.handler → index.mjs or index.js). */
  file: string;
  /** The exported handler name. */
  exportName: string;
}

interface TemplateResource {
  Type: string;
  Metadata?: Record<string, unknown>;
  Properties?: { Handler?: string; Runtime?: string; Code?: { S3Key?: unknown } };
}

export function lambdaBundles(assemblyDir: string): LambdaBundle[] {
  const dir = resolve(assemblyDir);
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new Error(`${dir} is not a cloud assembly (no manifest.json): run \`npm run synth\` first.`);
  }
  const bundles: LambdaBundle[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { Resources?: Record<string, TemplateResource> };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      // Node.js functions only: the CDK's own BucketDeployment handler (which uploads the console) is Python.
      if (!resource.Properties?.Runtime?.startsWith('nodejs')) continue;
      bundles.push(bundleOf(dir, logicalId, resource));
    }
  }
  return bundles;
}

function bundleOf(dir: string, logicalId: string, resource: TemplateResource): LambdaBundle {
  const assetPath = resource.Metadata?.['aws:asset:path'];
  const s3Key = resource.Properties?.Code?.S3Key;
  const asset = typeof assetPath === 'string' ? assetPath : typeof s3Key === 'string' ? `asset.${s3Key.replace(/\.zip$/, '')}` : undefined;
  if (!asset) throw new Error(`${logicalId}: no code asset in the template (inline code is not a bundle).`);
  const assetDir = join(dir, asset);
  const handler = resource.Properties?.Handler ?? 'index.handler';
  const dot = handler.lastIndexOf('.');
  const base = handler.slice(0, dot);
  const file = ['.mjs', '.js', '.cjs'].map((ext) => base + ext).find((f) => existsSync(join(assetDir, f)));
  if (!file) throw new Error(`${logicalId}: handler ${handler} has no file in ${assetDir}.`);
  const entry = resource.Metadata?.['gateway:entry'];
  return { logicalId, entry: typeof entry === 'string' ? entry : undefined, assetDir, file, exportName: handler.slice(dot + 1) };
}

/** The bundle of one entry point; throws when the assembly has none. */
export function bundleFor(bundles: LambdaBundle[], entry: string): LambdaBundle {
  const found = bundles.find((b) => b.entry === entry);
  if (!found) throw new Error(`The cloud assembly has no function built from ${entry}.`);
  return found;
}
