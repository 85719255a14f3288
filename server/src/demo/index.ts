export { demoRoutes, DEMO_CHANNEL, DEMO_CHANNEL_INPUT, type DemoParts } from './demo-routes.js';
export { TwitchSimulator, DEMO_BROADCASTER, SIMULATOR_ACTIONS, type SimulatorAction } from './twitch-simulator.js';
export { DemoLiveStream, type DemoLiveStreamOptions } from './demo-live-stream.js';
export { DEMO_LIVE_PATH } from './demo-live-route.js';
export { linkDemoPlayback } from './link-demo-playback.js';
export { endPreviousDemoBroadcast } from './end-previous-broadcast.js';
export { demoLiveSourceArgs, findClockFont, CLOCK_FONT_CANDIDATES, DEMO_LIVE_SEGMENT_SECONDS } from './demo-live-source.js';
