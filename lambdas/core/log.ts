import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs (Powertools). Never log keys, prompts or upstream credentials. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'bedrock-gateway' });
