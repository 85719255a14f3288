/**
 * Without a word from the server, video is capped here: a clean 720p30 for the live ladder. Its
 * own file because the element's `publish-max-kbps` default needs it on first load, while the
 * rest of the publisher's encoding (`publish-encoding.ts`) loads with the lazy publisher mode.
 */
export const DEFAULT_PUBLISH_MAX_KBPS = 2500;
