/** Bundle size and cold import time (and resident memory after import) of the chat and admin Lambda bundles. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GOAL, N, atMost, progress, type Report } from '../lib/bench.js';
import { bundle, coldImport, type BundleResult } from '../lib/bundle.js';
import { mb as mib } from '../lib/memory.js';
import { median, ms, round, table } from '../lib/stats.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COLD_RUNS = N.coldRuns;

interface BundleFigures {
  name: string;
  result?: BundleResult;
  error?: string;
  importMs?: number[];
  importMsSourceMaps?: number[];
  /** Resident memory after the import, bytes. */
  rss?: number[];
}

export async function sectionBundles(): Promise<BundleFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bundle-'));
  const figures: BundleFigures[] = [];
  for (const [name, entry] of [
    ['chat', 'lambdas/chat/index.ts'],
    ['admin', 'lambdas/admin/index.ts'],
  ] as const) {
    progress(`bundling ${entry} and timing ${COLD_RUNS}+${COLD_RUNS} cold imports`);
    const f: BundleFigures = { name };
    figures.push(f);
    try {
      f.result = await bundle(REPO_ROOT, entry, join(dir, name));
      f.importMs = [];
      f.importMsSourceMaps = [];
      f.rss = [];
      for (let i = 0; i < COLD_RUNS; i++) {
        const plain = await coldImport(f.result.outfile);
        f.importMs.push(plain.ms);
        f.rss.push(plain.rss);
        f.importMsSourceMaps.push((await coldImport(f.result.outfile, ['--enable-source-maps'])).ms);
      }
    } catch (e) {
      f.error = (e as Error).message.split('\n').slice(0, 3).join(' ');
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return figures;
}

export function printBundles(report: Report, figures: BundleFigures[]): void {
  const print = report.section('bundles');
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MB`;
  print(
    '== Bundles (esbuild as NodejsFunction runs it: esm, node22, minify, bundle all, main-fields module,main, createRequire banner) ==',
  );
  print(
    `   cold import = fresh \`node ${process.version}\` process, performance.now() around await import(bundle), median of ${COLD_RUNS}`,
  );
  print(
    table([
      ['bundle', 'bytes', 'size', '.map', 'build', 'import p50 (min)', 'with --enable-source-maps', 'RSS after import', 'goal'],
      ...figures.map((f) =>
        f.result
          ? [
              f.name,
              String(f.result.bytes),
              mb(f.result.bytes),
              mb(f.result.mapBytes),
              ms(f.result.buildMs, 0),
              `${ms(median(f.importMs ?? []), 1)} (${ms(Math.min(...(f.importMs ?? [])), 1)})`,
              `${ms(median(f.importMsSourceMaps ?? []), 1)} (${ms(Math.min(...(f.importMsSourceMaps ?? [])), 1)})`,
              mib(median(f.rss ?? [])),
              f.name === 'chat' ? `≤ ${mb(GOAL.chatBundleBytes)}` : '',
            ]
          : [f.name, 'FAILED', f.error ?? '', '', '', '', '', '', ''],
      ),
    ]),
  );
  for (const f of figures) {
    if (!f.result) continue;
    const top = f.result.top.slice(0, 6).map((t) => `${t.name} ${(t.bytes / 1024).toFixed(0)} KB`);
    print(`   ${f.name} largest parts: ${top.join(', ')}`);
  }
  print();
  report.json.bundles = figures.map((f) => ({
    name: f.name,
    bytes: f.result?.bytes,
    mapBytes: f.result?.mapBytes,
    importMsMedian: f.importMs ? round(median(f.importMs), 1) : undefined,
    importMsSourceMapsMedian: f.importMsSourceMaps ? round(median(f.importMsSourceMaps), 1) : undefined,
    importMs: f.importMs?.map((x) => round(x, 1)),
    importMsSourceMaps: f.importMsSourceMaps?.map((x) => round(x, 1)),
    top: f.result?.top.slice(0, 6),
    error: f.error,
  }));
  const chat = figures.find((f) => f.name === 'chat');
  report.add({
    rank: 91,
    figure: 'chat bundle size / cold import p50 / RSS after import',
    admin: chat?.result
      ? `${mb(chat.result.bytes)} / ${ms(median(chat.importMs ?? []), 0)} / ${mib(median(chat.rss ?? []))}`
      : `bundle failed: ${chat?.error ?? ''}`,
    goal: `≤ ${mb(GOAL.chatBundleBytes)} (README)`,
    verdict: chat?.result ? atMost(chat.result.bytes, GOAL.chatBundleBytes) : 'n/a',
  });
}
