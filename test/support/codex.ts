/**
 * The real Codex CLI (npm @openai/codex, pinned in package.json) run offline against a gateway: its own HOME and
 * working directory (under .data/, not /tmp, where Codex refuses to create its helper links and warns), the quiet
 * config.toml of the README's "Use with Codex" (no web search, analytics or plugins; no retries), stdin on
 * /dev/null (an open stdin makes it wait), a timeout, and its whole process group killed afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliProcess } from './cli-process.js';
import { ROOT } from './npm-start.js';

const CODEX_BIN = join(ROOT, 'node_modules', '.bin', 'codex');

function codexConfig(baseUrl: string, model: string): string {
  return `model = "${model}"
model_provider = "gw"
web_search = "disabled"
approval_policy = "never"

[analytics]
enabled = false

[features]
plugins = false

[model_providers.gw]
name = "gw"
base_url = "${baseUrl}"
env_key = "GW_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
`;
}

export interface CodexRun {
  code: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  cwd: string;
  /** The sandbox the run used (workspace-write, or the bypass when this machine cannot run Codex's sandbox). */
  sandbox: string;
}

const dirs: string[] = [];

function codexDir(tag: string): string {
  mkdirSync(join(ROOT, '.data'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.data', `codex-${tag}-`));
  dirs.push(dir);
  return dir;
}

export function removeCodexDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function runCodex(opts: {
  baseUrl: string;
  key: string;
  model: string;
  prompt: string;
  /** Let it write files in its working directory (apply_patch, shell commands). */
  write?: boolean;
  timeoutMs?: number;
}): Promise<CodexRun> {
  const home = codexDir('home');
  const cwd = codexDir('cwd');
  mkdirSync(join(home, '.codex'), { recursive: true });
  writeFileSync(join(home, '.codex', 'config.toml'), codexConfig(opts.baseUrl, opts.model));
  const sandbox = opts.write ? ['-s', 'workspace-write'] : [];
  let run = await exec([...sandbox], opts, home, cwd);
  // Codex's sandbox (bubblewrap + seccomp) needs user namespaces; where a CI machine has none, the run is repeated
  // without it — still confined to its temporary working directory, which is all the test writes to.
  if (opts.write && /bwrap|bubblewrap|namespace|sandbox.*(denied|failed|error)/i.test(run.stderr) && run.code !== 0) {
    run = await exec(['--dangerously-bypass-approvals-and-sandbox'], opts, home, cwd);
    return { ...run, cwd, sandbox: 'bypass' };
  }
  return { ...run, cwd, sandbox: opts.write ? 'workspace-write' : 'read-only' };
}

async function exec(
  flags: string[],
  opts: { key: string; prompt: string; timeoutMs?: number },
  home: string,
  cwd: string,
): Promise<Omit<CodexRun, 'cwd' | 'sandbox'>> {
  const { code, timedOut, stdout, stderr } = await runCliProcess(CODEX_BIN, ['exec', '--skip-git-repo-check', ...flags, opts.prompt], {
    cwd,
    // A minimal environment: nothing of the caller's OpenAI settings or proxies.
    env: {
      PATH: `${join(ROOT, 'node_modules', '.bin')}:/usr/local/bin:/usr/bin:/bin`,
      HOME: home,
      TERM: 'dumb',
      LANG: 'C.UTF-8',
      GW_KEY: opts.key,
    },
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  return { code, timedOut, stdout, stderr };
}
