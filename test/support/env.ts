import { inject } from 'vitest';

/**
 * The environment a test process runs in: DynamoDB Local from the global setup, dummy credentials, no
 * instance-metadata probing, a table of its own, quiet logs.
 */
const env = process.env;
env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynamoEndpoint');
env.AWS_REGION = 'us-east-1';
env.AWS_ACCESS_KEY_ID = 'test';
env.AWS_SECRET_ACCESS_KEY = 'test';
env.AWS_EC2_METADATA_DISABLED = 'true';
env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// One attempt: an SDK retry would hide the upstream error under test.
env.AWS_MAX_ATTEMPTS = '1';
env.POWERTOOLS_LOG_LEVEL = env.TEST_LOG_LEVEL ?? 'SILENT';
env.POWERTOOLS_METRICS_DISABLED = 'true';
env.TABLE_NAME = `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
delete env.AWS_PROFILE;
delete env.ADMIN_KEY_SECRET_ARN;
