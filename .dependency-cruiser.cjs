/**
 * Layer direction: core ← l0 ← l1 ← l2 ← l3 ← l4 ← ops ← cli. A package may import core and lower layers,
 * never a higher one, whether by package name or by a relative path. pve-sim and testlab are test
 * and local-lab engines: they may use core, and no layer's source may import them.
 * Checked by `pnpm lint` (and so by CI); scripts/layers.test.ts proves a planted reverse import fails.
 */
const ORDER = ['core', 'l0-runway', 'l1-image', 'l2-instantiate', 'l3-system', 'l4-workload', 'ops', 'cli'];
const ENGINES = ['pve-sim', 'testlab'];

const layerRules = ORDER.slice(0, -1).map((pkg, i) => ({
  name: `no-upward-import-from-${pkg}`,
  comment: `${pkg} may import only ${ORDER.slice(0, i).join(', ') || 'nothing of ahl'}: ${ORDER.slice(i + 1).join(', ')} are higher layers`,
  severity: 'error',
  from: { path: `^packages/${pkg}/` },
  to: { path: `^packages/(${ORDER.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-engine-in-layers',
      comment: 'layers run against a real Proxmox: they must not import the simulator or the test lab (tests may)',
      severity: 'error',
      from: { path: `^packages/(${ORDER.slice(0, -1).join('|')})/src/` },
      to: { path: `^packages/(${ENGINES.join('|')})/` },
    },
    {
      name: 'engines-use-core-only',
      comment: 'pve-sim and testlab may depend on core at most',
      severity: 'error',
      from: { path: `^packages/(${ENGINES.join('|')})/` },
      to: { path: `^packages/(${ORDER.slice(1).join('|')})/` },
    },
    {
      name: 'no-test-support-in-src',
      comment: 'test-support/ holds helpers for tests (prerequisites): no package source may depend on it',
      severity: 'error',
      from: { path: '^packages/[^/]+/src/' },
      to: { path: '^test-support/' },
    },
    {
      name: 'no-reaching-into-another-package',
      comment: 'import another package by its name, never through a relative path into its files',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/[^/]+/src/', pathNot: '^packages/$1/' },
    },
    {
      name: 'no-command-imports-a-command',
      comment: 'a CLI command parses arguments and calls ops, the layers, runs/ and views/; what two commands share lives in runs/ or views/, never in one of them',
      severity: 'error',
      from: { path: '^packages/cli/src/commands/', pathNot: '^packages/cli/src/commands/index\\.ts$' },
      to: { path: '^packages/cli/src/commands/' },
    },
    {
      name: 'no-handler-imports-a-handler',
      comment: 'a CLI handler runs one command file\'s commands; what two handlers share lives in runs/ or views/',
      severity: 'error',
      from: { path: '^packages/cli/src/handlers/([^/]+)\\.ts$' },
      to: { path: '^packages/cli/src/handlers/', pathNot: '^packages/cli/src/handlers/$1\\.ts$' },
    },
    {
      name: 'commands-are-specs',
      comment: 'a command file is what --help reads (names, options, examples) and loads its handler only when it runs, so `ahl --version` and `--help` never load the layers',
      severity: 'error',
      from: { path: '^packages/cli/src/commands/', pathNot: '^packages/cli/src/commands/index\\.ts$' },
      to: { pathNot: '^packages/cli/src/(command\\.ts$|handlers/)' },
    },
    {
      name: 'no-unresolvable-workspace-import',
      comment: 'an @ahl import that cannot be resolved would hide a layer violation: build the packages first',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, path: '^@ahl/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '(^|/)dist/'] },
    exclude: { path: '(^|/)(test/fixtures|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
