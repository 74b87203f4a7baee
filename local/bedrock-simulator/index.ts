/**
 * Bedrock Runtime simulator: a local stand-in for Amazon Bedrock that the real AWS SDK client can call.
 *
 *   const sim = await startBedrockSimulator();
 *   const client = new BedrockRuntimeClient({ endpoint: sim.url, region: 'us-east-1', credentials: {...} });
 *   sim.enqueue(script.toolCalls([{ name: 'get_weather', input: { city: 'Paris' } }]));
 *   ...
 *   await sim.close();
 */
export { startBedrockSimulator } from './server.js';
export type { BedrockSimulator, RecordedRequest } from './server.js';
export { script, defaultScript } from './scenario.js';
export type { JsonObject, Script, ScriptRequest } from './scenario.js';
export { decodeEventStream } from './event-stream.js';
export { embed } from './embeddings.js';
