// `cem analyze` (element/scripts/build.ts runs it at build time): the manifest of <live-badge> and
// <live-upload>, from the JSDoc tags on the component classes.
export default {
  globs: ['src/**/*.component.ts', 'src/live-badge/live-badge.ts', 'src/live-upload/live-upload.ts', 'src/trim-range/trim-range.ts'],
  outdir: 'dist',
  litelement: true,
  plugins: [
    {
      // Lit's `state: true` properties (named `_…`) are internal, not attributes or API.
      name: 'hide-internal-state',
      packageLinkPhase({ customElementsManifest }) {
        for (const module of customElementsManifest.modules ?? []) {
          for (const declaration of module.declarations ?? []) {
            declaration.attributes = declaration.attributes?.filter((attribute) => !attribute.name.startsWith('_') && !attribute.fieldName?.startsWith('_'));
            declaration.members = declaration.members?.filter((member) => !member.name.startsWith('_') && !member.name.startsWith('#') && member.privacy !== 'private');
          }
        }
      },
    },
  ],
};
