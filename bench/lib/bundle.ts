import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';

/** lib/constructs/gateway-function.ts: ESM_REQUIRE_BANNER. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface BundleResult {
  entry: string;
  outfile: string;
  bytes: number;
  mapBytes: number;
  buildMs: number;
  /** Largest contributors (npm package or `(project)`), bytes in the minified output. */
  top: Array<{ name: string; bytes: number }>;
}

/**
 * The same esbuild invocation NodejsFunction runs for a GatewayFunction (bundling options in
 * lib/constructs/gateway-function.ts): --bundle --platform=node --format=esm --target=node22 --minify
 * --main-fields=module,main --sourcemap --sources-content=false --banner:js=<createRequire>, nothing external,
 * out file index.mjs.
 */
export async function bundle(repoRoot: string, entry: string, outDir: string): Promise<BundleResult> {
  const outfile = join(outDir, 'index.mjs');
  const t0 = performance.now();
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    sourcemap: true,
    sourcesContent: false,
    external: [],
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  const buildMs = performance.now() - t0;
  return {
    entry,
    outfile,
    bytes: statSync(outfile).size,
    mapBytes: statSync(`${outfile}.map`).size,
    buildMs,
    top: contributors(result.metafile),
  };
}

function contributors(meta: Metafile): Array<{ name: string; bytes: number }> {
  const byName = new Map<string, number>();
  for (const out of Object.values(meta.outputs)) {
    for (const [path, info] of Object.entries(out.inputs)) {
      // The last node_modules segment names the package that owns the file.
      const all = [...path.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
      const name = all.length ? all[all.length - 1][1] : '(project code)';
      byName.set(name, (byName.get(name) ?? 0) + info.bytesInOutput);
    }
  }
  return [...byName.entries()].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * Cold import of a bundle in a fresh `node` process: performance.now() around `await import(file)`, and the
 * process's resident memory afterwards (what a Lambda instance holds before its first call), with the
 * Lambda runtime's `awslambda` global stubbed (middy's streamifyResponse reads it at import) and only the
 * variables a deployed function has. `nodeArgs` e.g. ['--enable-source-maps'] (the stack sets it in NODE_OPTIONS).
 */
export function coldImport(file: string, nodeArgs: string[] = []): Promise<{ ms: number; rss: number }> {
  const code = [
    'globalThis.awslambda ??= { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } };',
    'const t0 = performance.now();',
    'await import(process.env.BENCH_IMPORT_URL);',
    'const t1 = performance.now();',
    'process.stdout.write(JSON.stringify({ ms: t1 - t0, rss: process.memoryUsage().rss }));',
    // Exit at once: nothing may keep the process alive, and exiting is not part of the figure.
    'process.exit(0);',
  ].join('\n');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    BENCH_IMPORT_URL: pathToFileURL(file).href,
    TABLE_NAME: 'bench-cold-import',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'bedrock-gateway',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    LOG_LEVEL: 'INFO',
    ADMIN_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
  };
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', code], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        ok(JSON.parse(out) as { ms: number; rss: number });
      } catch {
        fail(new Error(`cold import failed (exit ${code}): ${err.slice(0, 500)}`));
      }
    });
  });
}
