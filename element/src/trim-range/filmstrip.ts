/**
 * Draws `canvases.length` frames of the media at `src`, evenly spread over it, into the canvases
 * (a filmstrip under a trim range). Frames come from a hidden `<video>` seeked to each time: the
 * browser's own decoder, no second download for a `blob:` URL. Resolves when all are drawn or
 * the media cannot be decoded (then the canvases stay blank); `signal` stops it.
 */
export async function drawFilmstrip(src: string, durationMs: number, canvases: readonly HTMLCanvasElement[], signal: AbortSignal): Promise<void> {
  if (!src || !(durationMs > 0) || canvases.length === 0) return;
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  video.playsInline = true;
  const event = (name: 'loadeddata' | 'seeked') =>
    new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        video.removeEventListener(name, onEvent);
        video.removeEventListener('error', onError);
        signal.removeEventListener('abort', onError);
        resolve(ok);
      };
      const onEvent = () => done(true);
      const onError = () => done(false);
      video.addEventListener(name, onEvent);
      video.addEventListener('error', onError);
      signal.addEventListener('abort', onError);
    });
  try {
    const loaded = event('loadeddata');
    video.src = src;
    if (!(await loaded)) return;
    for (const [i, canvas] of canvases.entries()) {
      if (signal.aborted) return;
      const seeked = event('seeked');
      video.currentTime = (((i + 0.5) / canvases.length) * durationMs) / 1000;
      if (!(await seeked)) return;
      const width = video.videoWidth || 160;
      const height = video.videoHeight || 90;
      canvas.width = 160;
      canvas.height = Math.max(1, Math.round((160 * height) / width));
      canvas.getContext('2d')?.drawImage(video, 0, 0, canvas.width, canvas.height);
    }
  } finally {
    video.removeAttribute('src');
    video.load();
  }
}
