/**
 * Every Lambda bundle of the synthesized stack loads the way the Lambda Node.js runtime loads it: the asset's
 * handler file alone in an empty folder (no node_modules anywhere up the tree), imported as ESM in a fresh
 * process, with the runtime's `awslambda` global. A function added to the stack later is covered without
 * editing this test; a bundle that cannot load (a `__dirname` at import, a missing dependency) fails here.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LambdaBundle, lambdaBundles } from '../../local/bundles.js';
import { cloudAssembly } from '../support/bundles.js';

const run = promisify(execFile);

/** What the runtime provides before it imports a handler (response streaming lives on this global). */
const RUNTIME_PRELUDE = `
globalThis.awslambda = {
  streamifyResponse: (fn) => fn,
  HttpResponseStream: { from: (stream) => stream },
};
const [file, exportName] = process.argv.slice(1);
try {
  const mod = await import(file);
  console.log(JSON.stringify({ handler: typeof mod[exportName] }));
} catch (e) {
  console.log(JSON.stringify({ handler: 'import failed: ' + String(e) }));
}
`;

let bundles: LambdaBundle[];
beforeAll(() => {
  bundles = lambdaBundles(cloudAssembly());
}, 120_000);

async function loadAlone(bundle: LambdaBundle): Promise<{ handler: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-task-'));
  try {
    copyFileSync(join(bundle.assetDir, bundle.file), join(dir, bundle.file));
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', RUNTIME_PRELUDE, pathToFileURL(join(dir, bundle.file)).href, bundle.exportName],
      {
        cwd: dir,
        // Only what Lambda sets, no NODE_PATH or NODE_OPTIONS from the test run.
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          TZ: ':UTC',
          LANG: 'en_US.UTF-8',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
        timeout: 30_000,
      },
    );
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('packaged Lambda bundles', () => {
  it('exist for every function the stack defines, each built from a gateway entry point', () => {
    expect(bundles.map((b) => b.entry).sort()).toEqual([
      'lambdas/admin/index.ts',
      'lambdas/chat/index.ts',
      'lambdas/feishu/webhook.ts',
      'lambdas/feishu/worker.ts',
      'lambdas/settle/index.ts',
      'lambdas/user/index.ts',
    ]);
  });

  it('each imports alone in an empty folder as the Lambda runtime does, and exports its handler', async () => {
    const results = await Promise.all(bundles.map(async (b) => ({ entry: b.entry, ...(await loadAlone(b)) })));
    expect(results).toEqual(bundles.map((b) => ({ entry: b.entry, handler: 'function' })));
  }, 60_000);

  it('stay small: one self-contained ESM file each, under 3.5 MB', () => {
    for (const b of bundles) expect(statSync(join(b.assetDir, b.file)).size, b.entry).toBeLessThan(3.5 * 1024 * 1024);
  });
});
