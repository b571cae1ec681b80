/**
 * The layer rule: a folder imports only from the layers below it (docs/architecture.md).
 *   models/arch  <  models/reference, models/layouts  <  models/nv2  <  properties
 *   <  src/trace  <  src/plugins  <  src/engine  <  src/check  <  src/layouts, src/xcheck  <  src/report
 *   <  src/api (the library), src/cli (the command line)  <  src/vitest.ts (nvconform/vitest, over src/api only)
 * bench/ and test/ may import anything. `npm run lint:layers` checks it; CI runs it.
 */
const LAYERS = [
  ['models/arch'],
  ['models/reference', 'models/layouts'],
  ['models/nv2'],
  ['properties'],
  ['src/trace'],
  ['src/plugins'],
  ['src/engine'],
  ['src/check'],
  ['src/layouts', 'src/xcheck'],
  ['src/report'],
  // The two front ends: peers, so the library never depends on the command line (nor the reverse).
  ['src/api', 'src/cli'],
  ['src/vitest.ts'],
];
const esc = (s) => s.replace(/[/.]/g, (c) => `\\${c}`);
/** A folder (everything under it), or one file (a name ending in .ts). */
const folder = (f) => (f.endsWith('.ts') ? `^${esc(f)}$` : `^${esc(f)}/`);
const any = (fs) => `(${fs.map(folder).join('|')})`;

const rules = [];
LAYERS.forEach((layer, i) => {
  const higher = LAYERS.slice(i + 1).flat();
  if (higher.length) {
    rules.push({
      name: `layer-${layer.join('+')}`,
      comment: `${layer.join(', ')} may import only from the layers below it`,
      severity: 'error',
      from: { path: any(layer) },
      to: { path: any(higher) },
    });
  }
  // Peers within a layer stay independent of each other.
  for (const a of layer) for (const b of layer) {
    if (a !== b) rules.push({ name: `peer-${a}-${b}`, comment: `${a} and ${b} are peers`, severity: 'error', from: { path: folder(a) }, to: { path: folder(b) } });
  }
});
rules.push(
  { name: 'vitest-not-cli', comment: 'nvconform/vitest is a library entry: it must not reach the command line', severity: 'error', from: { path: folder('src/vitest.ts') }, to: { path: folder('src/cli') } },
  { name: 'no-circular', severity: 'error', from: { path: '^(models|properties|src)/' }, to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } } },
  { name: 'no-test-from-product', severity: 'error', from: { path: '^(models|properties|src)/' }, to: { path: '^(test|bench)/' } },
);

module.exports = {
  forbidden: rules,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^(dist|node_modules|\\.stryker-tmp)/' },
  },
};
