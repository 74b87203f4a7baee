/**
 * README.md as a newcomer follows it: every fenced block marked `runnable` (```bash runnable, ```python runnable,
 * ```ts runnable, ```console runnable) and every command of its "Next steps" list is pasted, in the README's order,
 * into one shell session (variables and functions carry over from block to block) in a fresh folder, against a
 * fresh `npm start` (its console built first, as `npm start`'s prestart does; DATA_DIR is that folder's .data/).
 * Every other block must say `norun`, so a new snippet cannot escape the test by accident.
 *
 * The only change made to what is pasted: the README's port 8866 becomes the free port this instance listens on.
 * Claude Code and Codex are the real CLIs of the npm dependencies, on the PATH as `claude` and `codex`, offline
 * (the quiet settings are the README's own; HOME is a fresh folder; CLAUDE_CODE_MAX_RETRIES=0 and API_TIMEOUT_MS
 * only make a failure fail fast). Python blocks need a python3 with the `openai` package (README_PYTHON may name
 * one); without it they are skipped and the test says why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeBinary } from '../support/claude-code.js';
import { type Instance, ROOT, startInstance, stopAllInstances } from '../support/npm-start.js';

interface Block {
  lang: string;
  flags: string[];
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  heading: string;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function readmeBlocks(md: string): Block[] {
  const blocks: Block[] = [];
  let heading = '';
  let open: (Omit<Block, 'code'> & { lines: string[] }) | undefined;
  md.split('\n').forEach((text, i) => {
    if (open) {
      if (/^```\s*$/.test(text)) {
        blocks.push({ lang: open.lang, flags: open.flags, line: open.line, heading: open.heading, code: open.lines.join('\n') });
        open = undefined;
      } else open.lines.push(text);
      return;
    }
    const fence = /^```(\S*)\s*(.*)$/.exec(text);
    if (fence) open = { lang: fence[1], flags: fence[2].split(/\s+/).filter(Boolean), line: i + 1, heading, lines: [] };
    else if (/^#{2,4} /.test(text)) heading = text.replace(/^#+ /, '');
  });
  return blocks;
}

/** The "Next steps" list: each item's command (its longest inline code span). */
function nextSteps(md: string): Array<{ item: string; command: string }> {
  const section = /^### Next steps\n([\s\S]*?)\n### /m.exec(md)?.[1] ?? '';
  const items = section.split(/\n(?=- )/).filter((s) => s.startsWith('- '));
  return items.map((item) => {
    const spans = [...item.replace(/\n\s+/g, ' ').matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const command = spans.reduce((a, b) => (b.length > a.length ? b : a), '');
    return { item: /\*\*(.+?)\*\*/.exec(item)?.[1] ?? item.slice(0, 40), command };
  });
}

const blocks = readmeBlocks(README);
const CODE_LANGS = new Set(['bash', 'sh', 'shell', 'console', 'python', 'ts', 'typescript', 'js', 'javascript', 'toml', 'json']);

/** A python3 that has the openai package, or why there is none. */
function findPython(): { path: string } | { reason: string } {
  const candidates = [process.env.README_PYTHON, 'python3'].filter((p): p is string => !!p);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import openai, sys; print(sys.executable)'], { encoding: 'utf8' });
    if (r.status === 0) return { path: r.stdout.trim() };
  }
  return {
    reason:
      "no python3 with the 'openai' package on this machine (python3 -c 'import openai' fails; PyPI is not reachable here to " +
      'install it): the python blocks are skipped. Set README_PYTHON=/path/to/python (one with openai installed) to run them.',
  };
}

let inst: Instance;
let work: string;
let state: string;
let env: NodeJS.ProcessEnv;
let snippetNo = 0;
const transcript: string[] = [];

/** The README's text with its port replaced by this instance's. */
const localized = (code: string) => code.replaceAll('127.0.0.1:8866', `127.0.0.1:${inst.port}`);

/**
 * Runs `command` (bash) in the shared session: the state of the previous blocks is sourced first, this block's
 * exported variables and functions are saved after it. `set -eo pipefail`, so a failing command fails the block.
 */
function shell(command: string, label: string, timeoutMs = 120_000): Promise<{ code: number | null; out: string }> {
  const file = join(work, `.snippet-${++snippetNo}.sh`);
  writeFileSync(file, `${command}\n`);
  const script = `set -eo pipefail\n[ -f "${state}" ] && source "${state}"\nsource "${file}"\n{ export -p; declare -f; } > "${state}"\n`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    const timer = setTimeout(() => {
      out += `\n[timed out after ${timeoutMs} ms]`;
      killGroup();
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup(); // nothing a snippet started outlives it
      transcript.push(`--- ${label} (exit ${code})\n${out}`);
      resolve({ code, out });
    });
  });
}

/** A block ran: exit 0, and no error envelope or OpenAI/Anthropic error anywhere in what it printed. */
function expectClean(r: { code: number | null; out: string }, label: string) {
  expect(r.code, `${label} exits 0:\n${r.out}`).toBe(0);
  expect(r.out, `${label}: no error answer`).not.toMatch(/"success":\s*false|"error":\s*\{|"type":\s*"error"|Traceback|Error:/);
}

/** A ```console block: `$ command` (with `\` continuations) and the output it shows, digits matching any digits. */
async function runConsole(block: Block, label: string) {
  const lines = localized(block.code).split('\n');
  for (let i = 0; i < lines.length;) {
    expect(lines[i], `${label}: a console block starts with "$ "`).toMatch(/^\$ /);
    let command = lines[i++].slice(2);
    while (command.endsWith('\\')) command = `${command}\n${lines[i++]}`;
    const expected: string[] = [];
    while (i < lines.length && !lines[i].startsWith('$ ')) expected.push(lines[i++]);
    const r = await shell(command, label);
    expect(r.code, `${label}: ${command}\n${r.out}`).toBe(0);
    const actual = r.out.split('\n').map((l) => l.replace(/\r$/, ''));
    while (actual.length && actual[actual.length - 1] === '') actual.pop();
    const shapes = expected
      .filter((l) => l !== '')
      .map((l) => new RegExp(`^${l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d+/g, '\\d+')}$`, 'i'));
    expect(actual.length, `${label}: as many lines as shown:\n${r.out}`).toBe(shapes.length);
    shapes.forEach((re, n) => expect(actual[n], `${label}: line ${n + 1}`).toMatch(re));
  }
}

const python = findPython();

beforeAll(async () => {
  // what `npm start`'s prestart does: the console is built before the server starts
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'console/ensure-built.ts'], { cwd: ROOT, encoding: 'utf8' });
  expect(built.status, `${built.stdout}${built.stderr}`).toBe(0);

  // under the repo (Codex refuses to set up in /tmp; snippets' imports resolve to the repo's node_modules)
  mkdirSync(join(ROOT, '.data'), { recursive: true });
  work = mkdtempSync(join(ROOT, '.data', 'readme-'));
  const home = join(work, 'home');
  const bin = join(work, 'bin');
  mkdirSync(home);
  mkdirSync(bin);
  symlinkSync(claudeBinary(), join(bin, 'claude'));
  symlinkSync(join(ROOT, 'node_modules', '.bin', 'codex'), join(bin, 'codex'));
  // a wrapper, not a link: a virtualenv's python finds its packages from the path it is started by
  if ('path' in python) writeFileSync(join(bin, 'python3'), `#!/bin/sh\nexec '${python.path}' "$@"\n`, { mode: 0o755 });
  state = join(work, '.state.sh');
  env = {
    PATH: `${bin}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    TERM: 'dumb',
    LANG: 'C.UTF-8',
    CLAUDE_CODE_MAX_RETRIES: '0',
    API_TIMEOUT_MS: '30000',
  };
  inst = await startInstance('readme', { dataDir: join(work, '.data') });
}, 180_000);

afterAll(async () => {
  await stopAllInstances();
  if (process.env.README_KEEP) console.log(`README run kept in ${work}`);
  else if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('README.md', () => {
  it('marks every code block runnable or norun', () => {
    const unmarked = blocks.filter((b) => CODE_LANGS.has(b.lang) && !b.flags.includes('runnable') && !b.flags.includes('norun'));
    expect(unmarked.map((b) => `line ${b.line} (${b.lang}, ${b.heading})`)).toEqual([]);
    expect(
      blocks.filter((b) => b.lang === '').map((b) => b.line),
      'every block says its language',
    ).toEqual([]);
    expect(blocks.filter((b) => b.flags.includes('runnable')).length).toBeGreaterThanOrEqual(12);
    expect(nextSteps(README).map((s) => s.item)).toEqual(
      expect.arrayContaining(['Web console', 'Claude Code', 'Codex', 'Embeddings', 'Recharge', 'Records', 'Statistics', 'Deploy']),
    );
  });

  it('every runnable block, in order, then the next steps, works against a fresh npm start', async () => {
    const outputs = new Map<string, string>();
    const seen = (heading: string, out: string) => outputs.set(heading, `${outputs.get(heading) ?? ''}${out}`);
    for (const block of blocks.filter((b) => b.flags.includes('runnable'))) {
      const label = `README line ${block.line} (${block.lang}, "${block.heading}")`;
      const code = localized(block.code);
      if (block.lang === 'bash') {
        const r = await shell(code, label);
        expectClean(r, label);
        seen(block.heading, r.out);
      } else if (block.lang === 'ts') {
        const file = join(work, `snippet-${block.line}.mts`);
        writeFileSync(file, `${code}\n`);
        const r = await shell(`node --import tsx ${file}`, label);
        expectClean(r, label);
        seen(block.heading, r.out);
      } else if (block.lang === 'console') {
        await runConsole(block, label);
      } else if (block.lang === 'python') {
        continue; // below, in their own test (they change no state the later blocks use)
      } else {
        throw new Error(`${label}: no runner for ${block.lang}`);
      }
    }
    // what each part shows when it works
    const quick = outputs.get('Quick start (no AWS account needed)') ?? '';
    expect(quick).toMatch(/"content":"\[simulated"[\s\S]*"content":"ping"/); // the streamed answer, chunk by chunk
    expect(quick).toContain('data: [DONE]');
    expect(quick).toMatch(/"month_fee":0\.\d+/);
    expect(outputs.get('With the openai SDK')).toContain('[simulated Bedrock] You said: ping');
    expect(outputs.get('With the Anthropic SDK')).toMatch(
      /\[simulated Bedrock\] You said: ping[\s\S]*\[simulated Bedrock\] You said: ping/,
    );
    expect(outputs.get('Use with Claude Code')).toContain('[simulated Bedrock]');
    expect(outputs.get('Use with Codex')).toContain('[simulated Bedrock]');
    expect(outputs.get('Web console')).toContain('<title>Bedrock Gateway Console</title>');
    const records = outputs.get('Records and statistics') ?? '';
    expect(records).toMatch(/"session_key":"demo-1"[\s\S]*"threads":\{"items":\[/);
    expect(records).toMatch(/"from":"\d{4}-\d{2}-01"/);

    for (const step of nextSteps(README)) {
      const label = `README next step "${step.item}": ${step.command}`;
      if (step.command.startsWith('npx cdk')) {
        console.log(`${label}: not run (it deploys to a real AWS account; the tests are offline)`);
        continue;
      }
      const r = await shell(localized(step.command), label);
      expectClean(r, label);
      expect(r.out.trim(), label).not.toBe('');
      if (step.item === 'Claude Code' || step.item === 'Codex') expect(r.out, label).toContain('[simulated Bedrock]');
      if (step.item === 'Embeddings') expect(r.out, label).toContain('"embedding":[');
      if (step.item === 'Recharge') expect(r.out, label).toMatch(/"amount":10,"balance_after":10\b/);
    }
  }, 420_000);

  it.skipIf(!('path' in python))(
    `the python blocks${'reason' in python ? ` — SKIPPED: ${python.reason}` : ''}`,
    async () => {
      for (const block of blocks.filter((b) => b.flags.includes('runnable') && b.lang === 'python')) {
        const label = `README line ${block.line} (python, "${block.heading}")`;
        const file = join(work, `snippet-${block.line}.py`);
        writeFileSync(file, `${localized(block.code)}\n`);
        const r = await shell(`python3 ${file}`, label);
        expectClean(r, label);
        expect(r.out).toContain('[simulated Bedrock] You said: Write a haiku about gateways\n');
        expect(r.out).toContain("name='query_weather'");
        expect(r.out).toContain('[simulated Bedrock] You said: Describe this picture.');
        expect(r.out).toMatch(/2 vectors of \d+/);
      }
    },
    120_000,
  );
});

afterAll(() => {
  if ('reason' in python) console.warn(`README python blocks: ${python.reason}`);
  if (process.env.README_TRANSCRIPT) console.log(transcript.join('\n'));
});
