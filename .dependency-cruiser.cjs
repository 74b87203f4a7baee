/**
 * Layer rules, checked in CI (`npm run layers`). Layers point one way:
 *
 *   bin/, lib/ (infrastructure)  →  lambdas/<entry>/ (thin handlers)  →  lambdas/core/ edges (wire/, http/)
 *   →  domain (chat/, embeddings/, billing/, records/, auth/, feishu/)  →  store/, providers/, net/, content/
 *   →  leaves (errors, json, config, topology, money, clock, log, usage, key-material, validate, metrics)
 *
 * local/ (npm start, the simulator) and test/ sit beside this and may use anything.
 */
const CORE = '^lambdas/core/';
/** Modules that depend on nothing in the core but each other. */
const LEAVES = `${CORE}(errors|json|config|topology|money|clock|log|usage|key-material|validate|metrics|limits/types|invocation|upstream-gate)\\.ts$`;
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles make layers meaningless.', from: {}, to: { circular: true } },
    {
      name: 'core-not-entries',
      severity: 'error',
      comment: 'The domain never imports an entry point, the local server or the infrastructure.',
      from: { path: CORE },
      to: { path: ['^lambdas/(admin|chat|user|feishu)/', '^local/', '^lib/', '^bin/', '^test/', '^bench/'] },
    },
    {
      name: 'entries-not-each-other',
      severity: 'error',
      comment: 'Each Lambda entry is thin and independent: shared code belongs in lambdas/core.',
      from: { path: '^lambdas/(admin|chat|user|feishu)/' },
      to: { path: '^lambdas/(admin|chat|user|feishu)/', pathNot: '^lambdas/$1/' },
    },
    {
      name: 'providers-are-pure',
      severity: 'error',
      comment: 'A provider turns a core request into upstream calls and events; it knows no store, money, records or wire API.',
      from: { path: `${CORE}providers/` },
      to: { path: `${CORE}(store|billing|records|auth|wire|http|feishu|chat/pipeline|embeddings)` },
    },
    {
      name: 'store-is-the-bottom',
      severity: 'error',
      comment: 'The store imports nothing above it: only other store modules and the leaves.',
      from: { path: `${CORE}store/` },
      to: { path: CORE, pathNot: [`${CORE}store/`, LEAVES] },
    },
    {
      name: 'domain-not-edges',
      severity: 'error',
      comment: 'Domain code never imports a wire API or the admin/user http layer (they import the domain).',
      from: { path: `${CORE}(chat|embeddings|billing|records|auth|feishu|store|providers|net|content)/` },
      to: { path: `${CORE}(wire|http)/` },
    },
    {
      name: 'wire-apis-independent',
      severity: 'error',
      comment: 'Each wire API is an encoder/decoder over the core; they share only wire/ helpers, never each other.',
      from: { path: `${CORE}wire/([^/]+)/` },
      to: { path: `${CORE}wire/([^/]+)/`, pathNot: [`${CORE}wire/$1/`, `${CORE}wire/openai/`] },
    },
    {
      name: 'leaves-are-leaves',
      severity: 'error',
      comment: 'The leaf modules depend on nothing in the core but each other.',
      from: { path: LEAVES },
      to: { path: CORE, pathNot: LEAVES },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', 'cdk.out', '\\.data'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
