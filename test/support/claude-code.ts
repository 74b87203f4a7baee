/**
 * The real Claude Code CLI (npm @anthropic-ai/claude-code, a native binary) run offline against a local gateway:
 * a fresh temp HOME and cwd per run, stdin on /dev/null, a minimal environment (nothing inherited: no ANTHROPIC_*,
 * no proxies), the quiet settings of REFERENCE §5 so it contacts nothing but the gateway, its own retries capped,
 * and its whole process group killed when it ends or times out.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliProcess } from './cli-process.js';
import { ROOT } from './npm-start.js';

/** The platform package's binary: present whether or not npm ran the wrapper's postinstall. */
const NATIVE_BINARY = join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code-linux-x64', 'claude');
/** `.bin/claude`: the native binary after the postinstall, a ~500-byte stub under `npm ci --ignore-scripts`. */
const BIN_LINK = join(ROOT, 'node_modules', '.bin', 'claude');

/**
 * The Claude Code binary to run. Throws (the test fails, loudly) when this machine has no usable one: a missing
 * platform package is a broken install, never a reason to skip.
 */
export function claudeBinary(): string {
  if (existsSync(NATIVE_BINARY) && statSync(NATIVE_BINARY).size > 1_000_000) return NATIVE_BINARY;
  if (existsSync(BIN_LINK) && statSync(BIN_LINK).size > 1_000_000) return BIN_LINK;
  throw new Error(
    `Claude Code's native binary is missing (${NATIVE_BINARY}): the optional dependency @anthropic-ai/claude-code-linux-x64 ` +
      'was not installed (npm ci with --omit=optional, or another platform). Run `npm ci` on linux-x64.',
  );
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

export interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** stdout parsed (`--output-format json`), or null. */
  json: { type: string; is_error: boolean; result: string; session_id: string; num_turns: number; [k: string]: unknown } | null;
  home: string;
  cwd: string;
}

export interface ClaudeOptions {
  /** The gateway's base URL, WITHOUT /v1 (Claude Code appends /v1/messages itself). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer` (ANTHROPIC_AUTH_TOKEN). */
  apiKey: string;
  /** A model row's name. */
  model: string;
  prompt: string;
  args?: string[];
  cwd?: string;
  timeoutMs?: number;
}

export async function runClaude(opts: ClaudeOptions): Promise<ClaudeRun> {
  const home = tempDir('gw-cc-home-');
  const cwd = opts.cwd ?? tempDir('gw-cc-cwd-');
  const env: NodeJS.ProcessEnv = {
    // Claude Code runs git, ps and a shell: /usr/bin must be on the PATH.
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TERM: 'dumb',
    LANG: 'C.UTF-8',
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_AUTH_TOKEN: opts.apiKey,
    ANTHROPIC_MODEL: opts.model,
    // The quiet settings: no telemetry, no update checks, nothing but the gateway.
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // A failing call fails the run at once instead of after ~3 minutes of retries.
    CLAUDE_CODE_MAX_RETRIES: '0',
    API_TIMEOUT_MS: '30000',
  };
  const run = await runCliProcess(claudeBinary(), ['-p', opts.prompt, '--output-format', 'json', ...(opts.args ?? [])], {
    cwd,
    env,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  let json: ClaudeRun['json'] = null;
  try {
    json = JSON.parse(run.stdout) as ClaudeRun['json'];
  } catch {
    /* not JSON: the assertions show stdout and stderr */
  }
  return { ...run, json, home, cwd };
}
