/** What every response or chunk of one completion shares. */
export interface CompletionMeta {
  id: string;
  created: number;
  /** The model name the client sent (echoed, never the Bedrock id). */
  model: string;
  /** The response_format tool whose input is the JSON answer, if one was forced. */
  structuredToolName: string | undefined;
}
