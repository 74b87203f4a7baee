import { defineConfig } from 'vitest/config';

// Local Node 20 is fine for the SDK today; Lambdas run nodejs22.x.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'console/src/**/*.test.ts'],
    // One process per test file: each file gets its own table, server and simulator, and env stays private.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/env.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    teardownTimeout: 20_000,
    reporters: ['default'],
  },
});
