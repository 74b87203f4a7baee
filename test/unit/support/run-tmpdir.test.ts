import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';

// What test files leave under os.tmpdir() goes with the run's own directory at teardown (global-setup.ts): every
// `new App()` without an outdir makes a 40 MB `cdk.outXXXXXX` there, and the CLIs' homes are made there too.
describe('the run-private temporary directory', () => {
  it('is where os.tmpdir() points in a test file', () => {
    expect(basename(tmpdir())).toMatch(/^gateway-tests-/);
  });

  it('holds what CDK and the helpers create', () => {
    const app = new App();
    expect(dirname(app.outdir)).toBe(tmpdir());
    expect(dirname(mkdtempSync(join(tmpdir(), 'x-')))).toBe(tmpdir());
  });
});
