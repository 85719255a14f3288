/**
 * The upload client of bench/upload.ts as its own process: streaming 200 MB from disk into a
 * socket costs about as much CPU as receiving and writing it, so on 2 cores a client inside
 * the server's process would take the server's event loop and core for itself. One upload at a
 * time, when told (see tus-client.ts).
 */
import { parentChannel } from '../support/child.js';
import type { TusUploadResult, TusUploadRun } from './protocol.js';
import { tusUpload } from './tus-client.js';

const reply = parentChannel<TusUploadRun>(async (message) => {
  if (message.type !== 'upload') return;
  try {
    reply({ type: 'uploaded', id: message.id, timing: await tusUpload(message) } satisfies TusUploadResult);
  } catch (error) {
    reply({ type: 'uploaded', id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies TusUploadResult);
  }
});
