import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.js';

/**
 * One DynamoDB Local (in memory) for the whole run; every test file creates its own table in it. Skipped
 * when AWS_ENDPOINT_URL_DYNAMODB already points somewhere.
 */
let dynamo: DynamoDbLocal | undefined;

/**
 * The run's own temporary directory, removed at teardown. Test files inherit it as TMPDIR (the forks start after
 * this setup), so whatever they or their children leave under os.tmpdir() goes with it: CDK's assembly directories
 * (`cdk.outXXXXXX`, 40 MB each, from every `new App()` without an outdir), the CLIs' homes and working directories,
 * servers' data directories.
 */
let runTmp: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  runTmp = mkdtempSync(join(tmpdir(), 'gateway-tests-'));
  process.env.TMPDIR = runTmp;
  let endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint) {
    dynamo = await startDynamoDbLocal();
    endpoint = dynamo.endpoint;
  }
  project.provide('dynamoEndpoint', endpoint);
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
  if (runTmp) rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
