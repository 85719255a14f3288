export { demoRoutes, DEMO_CHANNEL } from './demo-routes.js';
export { TwitchSimulator, DEMO_BROADCASTER, SIMULATOR_ACTIONS, type SimulatorAction } from './twitch-simulator.js';
