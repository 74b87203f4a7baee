import type { RecordedRequest } from '../../local/bedrock-simulator/index.js';

/**
 * A Converse / ConverseStream request body as the Bedrock simulator recorded it: the JSON on the wire, so bytes
 * are base64 strings (unlike the SDK's Uint8Array types). Only the fields tests read.
 */
export interface ConverseBody {
  messages: ConverseMessage[];
  system?: Array<{ text?: string }>;
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: {
    tools: Array<{ toolSpec: { name: string; description: string; inputSchema: { json: unknown } } }>;
    toolChoice?: Record<string, unknown>;
  };
  additionalModelRequestFields?: Record<string, unknown>;
}

interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ConverseBlock[];
}

interface ConverseBlock {
  text?: string;
  image?: { format: string; source: { bytes: string } };
  document?: { format: string; name: string; source: { bytes: string } };
  toolUse?: { toolUseId: string; name: string; input: unknown };
  toolResult?: { toolUseId: string; content: unknown[]; status?: string };
}

/** The recorded body of a Converse call (the simulator keeps bodies as untyped JSON). */
export function converseBody(req: RecordedRequest): ConverseBody {
  return req.body as ConverseBody;
}
