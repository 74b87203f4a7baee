/**
 * Scripts chosen by the prompt, for clients the test cannot reach into (a real CLI talking to `npm start`): lines of
 * the user's message that start with `sim:` say what the simulated model does, turn by turn.
 *
 *   sim:tool <name> <json>   call tool <name> with this input. A JSON string given to a tool whose schema has one
 *                            string property becomes that property (a free-form tool such as Codex's apply_patch:
 *                            `sim:tool apply_patch "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"`)
 *   sim:reason <text>        every scripted answer starts with signed reasoning of this text
 *   sim:say <text>           the final answer, once every tool line has been used (default: the usual echo)
 *
 * The n-th `sim:tool` line answers the n-th model turn after that message (tool results in between), so a
 * stateless client replaying its history gets the same script. Only top-level text counts: tool output that
 * happens to print `sim:` does not.
 */
import { fakeSignature, type JsonObject, type Script, type ScriptBlock, type ScriptRequest } from './scenario.js';

interface Directives {
  tools: Array<{ name: string; input: unknown }>;
  reason?: string;
  say?: string;
}

export function promptScript(req: ScriptRequest): Script | undefined {
  const messages: JsonObject[] = Array.isArray(req.body.messages) ? req.body.messages : [];
  const at = findLastIndex(messages, (m) => m?.role === 'user' && textOf(m).includes('sim:'));
  if (at < 0) return undefined;
  const directives = parse(textOf(messages[at]));
  if (!directives) return undefined;
  const round = messages.slice(at + 1).filter((m) => m?.role === 'assistant').length;
  const content: ScriptBlock[] = [];
  // Converse carries thinking in additionalModelRequestFields, a Claude InvokeModel body at its top level.
  const thinkingType = (req.body.additionalModelRequestFields?.thinking ?? req.body.thinking)?.type;
  const thinking = thinkingType === 'enabled' || thinkingType === 'adaptive';
  if (directives.reason !== undefined || thinking) {
    const text = directives.reason ?? '[simulated reasoning] Following the script.';
    content.push({ reasoning: { text, signature: fakeSignature(text) } });
  }
  const call = directives.tools[round];
  if (call) {
    const schema = offeredSchema(req.body, call.name);
    if (!schema) return { content: [...content, { text: `[simulated Bedrock] the scripted tool ${call.name} is not offered.` }] };
    content.push({ toolUse: { name: call.name, input: wrap(call.input, schema) } });
    return { content };
  }
  if (directives.say === undefined) return undefined;
  content.push({ text: directives.say });
  return { content };
}

function parse(text: string): Directives | undefined {
  const out: Directives = { tools: [] };
  let any = false;
  for (const line of text.split('\n')) {
    const m = /^\s*sim:(tool|reason|say)\s+(.*)$/.exec(line);
    if (!m) continue;
    any = true;
    const rest = m[2].trim();
    if (m[1] === 'reason') out.reason = rest;
    else if (m[1] === 'say') out.say = rest;
    else {
      const t = /^([a-zA-Z0-9_-]{1,64})\s*(.*)$/.exec(rest);
      if (!t) continue;
      let input: unknown;
      try {
        input = t[2] ? JSON.parse(t[2]) : {};
      } catch {
        input = t[2];
      }
      out.tools.push({ name: t[1], input });
    }
  }
  return any ? out : undefined;
}

/**
 * The input schema of the tool named `name` if the request offers it: Converse's `toolConfig.tools[].toolSpec`, or a
 * Claude InvokeModel body's `tools[]` (`{name, input_schema}`).
 */
function offeredSchema(body: JsonObject, name: string): JsonObject | undefined {
  const converse: JsonObject[] = Array.isArray(body.toolConfig?.tools) ? body.toolConfig.tools : [];
  const spec = converse.find((t) => t?.toolSpec?.name === name)?.toolSpec;
  if (spec) return (spec.inputSchema?.json ?? {}) as JsonObject;
  const anthropic: JsonObject[] = Array.isArray(body.tools) ? body.tools : [];
  const tool = anthropic.find((t) => t?.name === name);
  return tool ? ((tool.input_schema ?? {}) as JsonObject) : undefined;
}

/** A string for a tool whose schema has exactly one string property becomes `{that: string}`. */
function wrap(input: unknown, schema: JsonObject | undefined): unknown {
  if (typeof input !== 'string') return input;
  const props = Object.entries((schema?.properties ?? {}) as JsonObject).filter(([, p]) => p?.type === 'string');
  return props.length === 1 ? { [props[0][0]]: input } : { input };
}

function textOf(m: JsonObject): string {
  if (typeof m?.content === 'string') return m.content;
  const blocks: JsonObject[] = Array.isArray(m?.content) ? m.content : [];
  return blocks
    .filter((b) => typeof b?.text === 'string')
    .map((b) => b.text as string)
    .join('\n');
}

function findLastIndex<T>(list: T[], test: (v: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i])) return i;
  return -1;
}
