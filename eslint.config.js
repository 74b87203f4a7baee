// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Type-aware linting. The rules that matter most in streaming Lambda code are the promise rules: a floating
 * promise is a write that may never happen before the instance freezes, a misused one is an error nobody sees.
 */
export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'dist/', 'coverage/', 'console/dist/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Narrowing JSON and SDK shapes is the daily work here; `any` stays banned in code, tests may assert on it.
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The console's browser tests and their gateway are type-checked by their own tsconfig (Node, not the
    // bundler's): lint them with exactly that program. The project service only looks for files named tsconfig.json.
    files: ['console/e2e/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: false, project: './console/tsconfig.e2e.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Plain Node scripts run without tsx (the bench's one-Lambda-instance child): no type information to lint with.
    files: ['bench/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', performance: 'readonly', globalThis: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' },
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Stubs implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The Bedrock simulator reads arbitrary JSON request bodies and checks them the way Bedrock does (its validate.ts);
    // typing them would restate the SDK's own types for a fake. Its request bodies stay `any`-typed JSON.
    files: ['local/bedrock-simulator/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
);
