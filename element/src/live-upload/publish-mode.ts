/*
 * The publisher mode of `<live-upload publish>` as the element loads it: one lazy chunk (the
 * controller, the WHIP client, encoding, level meter, stats and the template), fetched with a
 * dynamic `import()` only when `publish` is set or a publisher method is called, so a viewer's
 * page never downloads it (the first-load budget of issue 26, bench/size.ts).
 */
export { PublishController } from './publish-controller.js';
export { publishTemplate } from './publish-templates.js';
