/**
 * Whether a process with this id runs on this machine (signal 0 checks without signalling).
 * For files a process of ours left behind (a demo stream directory, an embedded nats-server's
 * store): is their owner still there? EPERM means it runs, as another user.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
