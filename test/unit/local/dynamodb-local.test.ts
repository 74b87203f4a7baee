/**
 * DynamoDB Local runs with the parallel collector, unless the environment's JVM options choose one: two collectors
 * and the JVM refuses to start, so `npm start` would fail for a user who set JAVA_TOOL_OPTIONS.
 */
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDynamoDbLocal } from '../../../local/dynamodb-local.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('startDynamoDbLocal', () => {
  it('starts when JAVA_TOOL_OPTIONS already chooses a garbage collector', async () => {
    vi.stubEnv('JAVA_TOOL_OPTIONS', '-XX:+UseSerialGC');
    const ddb = await startDynamoDbLocal();
    try {
      const client = new DynamoDBClient({
        endpoint: ddb.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      });
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      client.destroy();
    } finally {
      await ddb.stop();
    }
  }, 90_000);
});
