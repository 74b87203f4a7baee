/**
 * Memory of one gateway instance serving one long stream: a fresh gateway process (its first call, as a new
 * Lambda instance), resident memory from /proc/<pid>/status (VmRSS; peak = VmHWM, reset after start-up with
 * /proc/<pid>/clear_refs so that it covers the stream only, and sampled every 20 ms as well).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { script } from '../../local/bedrock-simulator/index.js';
import { N, progress, type Ctx } from '../lib/bench.js';
import { bundle } from '../lib/bundle.js';
import { chatBody, gatewayStream } from '../lib/clients.js';
import { mb, resetPeakRss, rss } from '../lib/memory.js';
import { ms, table } from '../lib/stats.js';

export interface MemoryFigures {
  readyRss: number;
  streamPeakRss: number;
  afterRss: number;
  loadPeakRss: number;
  /** One chat function instance (the chat bundle alone in a fresh node process) serving the same stream. */
  instance?: { ready: number; peak: number; after: number; bytes: number; ms: number };
}

interface InstanceRun {
  ready: number;
  peak: number;
  after: number;
  bytes: number;
  ms: number;
  reset: boolean;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The chat bundle, alone in a fresh `node` (no tsx, no other handler), serving one streaming call: a Lambda instance. */
async function chatInstance(c: Ctx, key: string): Promise<InstanceRun> {
  const simUrl = await c.simUrl('instance');
  const dir = mkdtempSync(join(tmpdir(), 'bench-instance-'));
  try {
    const built = await bundle(REPO_ROOT, 'lambdas/chat/index.ts', dir);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL_DYNAMODB: c.dynamoEndpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: simUrl,
      BENCH_BUNDLE: built.outfile,
      BENCH_KEY: key,
      BENCH_BODY: JSON.stringify(chatBody('a long answer', true)),
      BENCH_OUT: join(dir, 'result.json'),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    const file = fileURLToPath(new URL('../chat-instance-child.mjs', import.meta.url));
    return await new Promise<InstanceRun>((ok, fail) => {
      const child = spawn(process.execPath, ['--enable-source-maps', file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      // 'close', not 'exit': the child's output may still be in the pipe when it exits.
      child.on('close', (code) => {
        clearTimeout(timer);
        try {
          ok(JSON.parse(readFileSync(env.BENCH_OUT!, 'utf8')) as InstanceRun);
        } catch {
          fail(new Error(`the chat instance failed (exit ${code}): ${err.slice(0, 500)}`));
        }
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function sectionMemory(c: Ctx): Promise<MemoryFigures> {
  const print = c.report.section('memory');
  const chunks = N.longStreamChunks;
  const chunk = 'lorem ipsum dolor sit amet, consectetur adipiscing '; // 50 characters
  // The peak of the long-running gateway, which has served every latency and load run by now.
  const loadPeakRss = rss(c.gw.pid).peak;
  progress(`memory: a fresh gateway, one stream of ${chunks} chunks`);
  const g = await c.startGateway('memory');
  try {
    await c.setScript(
      script.text(chunk.repeat(chunks), { chunkSize: chunk.length, delayMs: 1, usage: { inputTokens: 5, outputTokens: chunks * 10 } }),
    );
    const ready = rss(g.pid);
    const reset = resetPeakRss(g.pid);
    let sampled = ready.now;
    const timer = setInterval(() => {
      sampled = Math.max(sampled, rss(g.pid).now);
    }, 20);
    const r = await gatewayStream(g.url, g.keys.user, c.agent);
    clearInterval(timer);
    const after = rss(g.pid);
    const streamPeak = reset ? Math.max(after.peak, sampled) : sampled;
    print(`== Memory: one fresh gateway process (all handlers, from sources under tsx) serving one stream ==`);
    print(
      `   the stream: ${r.textChunks} text chunks of ${chunk.length} characters, 1 ms apart (${((chunks * chunk.length) / 1024).toFixed(0)} KB of text), ${ms(r.total, 0)}${r.ok ? '' : `; FAILED: ${r.error}`}`,
    );
    print(
      table([
        ['', 'resident memory'],
        ['fresh gateway, ready (before its first call)', mb(ready.now)],
        [`peak while serving the stream (${reset ? 'VmHWM reset at start, and sampled' : 'sampled every 20 ms'})`, mb(streamPeak)],
        ['after the stream', mb(after.now)],
        ['the long-running gateway: peak since start (after the 64-client runs)', mb(loadPeakRss)],
      ]),
    );
    print('   this process also holds tsx and every other handler, so its figures are an upper bound; a Lambda instance:');
    progress('memory: one chat function instance (the chat bundle alone) serving the same stream');
    let instance: InstanceRun | undefined;
    try {
      instance = await chatInstance(c, g.keys.user);
    } catch (e) {
      print(`   one chat function instance: FAILED: ${(e as Error).message}`);
    }
    if (instance) {
      print(
        table([
          ['one chat function instance: the chat bundle alone in a fresh node, its handler invoked', 'resident memory'],
          ['ready (after the import, before its first call)', mb(instance.ready)],
          [
            `peak while serving the stream (${instance.reset ? 'VmHWM reset after the import, and sampled' : 'sampled every 10 ms'})`,
            mb(instance.peak),
          ],
          ['after the stream', mb(instance.after)],
          [`the stream: ${(instance.bytes / 1024).toFixed(0)} KB of SSE in ${ms(instance.ms, 0)}`, ''],
        ]),
      );
    }
    print();
    const figures: MemoryFigures = {
      readyRss: ready.now,
      streamPeakRss: streamPeak,
      afterRss: after.now,
      loadPeakRss,
      ...(instance
        ? { instance: { ready: instance.ready, peak: instance.peak, after: instance.after, bytes: instance.bytes, ms: instance.ms } }
        : {}),
    };
    c.report.json.memory = figures;
    c.report.add({
      rank: 80,
      figure: 'peak RSS, one fresh gateway serving one long stream (all handlers, from sources)',
      user: `${mb(streamPeak)} (ready ${mb(ready.now)})`,
      goal: '(an upper bound)',
    });
    c.report.add({
      rank: 81,
      figure: 'peak RSS, one chat function instance (the bundle alone) serving one long stream',
      user: instance ? `${mb(instance.peak)} (ready ${mb(instance.ready)})` : 'n/a',
      goal: '(sizes the Lambda)',
    });
    return figures;
  } finally {
    await g.child.stop();
  }
}
