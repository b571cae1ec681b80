/**
 * The layer rule: a folder imports only from the layers below it (docs/architecture.md).
 *   models/arch  <  models/reference, models/layouts  <  models/nv2  <  properties
 *   <  src/trace  <  src/plugins  <  src/engine  <  src/check  <  src/layouts  <  src/report  <  src/cli
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
  ['src/cli'],
];
const esc = (s) => s.replace(/[/.]/g, (c) => `\\${c}`);
const folder = (f) => `^${esc(f)}/`;
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
