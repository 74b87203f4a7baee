/**
 * Memory of one gateway instance serving one long stream: a fresh gateway process (its first call, as a new
 * Lambda instance), resident memory from /proc/<pid>/status (VmRSS; peak = VmHWM, reset after start-up with
 * /proc/<pid>/clear_refs so that it covers the stream only, and sampled every 20 ms as well).
 */
import { script } from '../../local/bedrock-simulator/index.js';
import { N, progress, type Ctx } from '../lib/bench.js';
import { gatewayStream } from '../lib/clients.js';
import { mb, resetPeakRss, rss } from '../lib/memory.js';
import { ms, table } from '../lib/stats.js';

export interface MemoryFigures {
  readyRss: number;
  streamPeakRss: number;
  afterRss: number;
  loadPeakRss: number;
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
    print('   a Lambda instance runs the chat bundle alone (see Bundles: RSS after import); this process also holds tsx and');
    print('   every other handler, so its figures are an upper bound');
    print();
    const figures = { readyRss: ready.now, streamPeakRss: streamPeak, afterRss: after.now, loadPeakRss };
    c.report.json.memory = figures;
    c.report.add({
      rank: 80,
      figure: 'peak RSS, one fresh gateway serving one long stream',
      user: `${mb(streamPeak)} (ready ${mb(ready.now)})`,
      goal: '(sizes the Lambda)',
    });
    return figures;
  } finally {
    await g.child.stop();
  }
}
