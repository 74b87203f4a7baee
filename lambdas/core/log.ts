import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs (Powertools; it reads POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL itself). Never log
 * keys, prompts or upstream credentials.
 */
export const logger = new Logger({ serviceName: 'bedrock-gateway' });
