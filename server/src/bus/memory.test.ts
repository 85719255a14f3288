import { busContract } from './bus.contract.js';
import { createMemoryBus } from './memory.js';

busContract('memory', async () => createMemoryBus());
