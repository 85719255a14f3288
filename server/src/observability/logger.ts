import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Paths pino blanks out: credentials and signatures never reach a log line. */
const REDACTED_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["twitch-eventsub-message-signature"]',
  'headers["x-hub-signature"]',
  '*.secret',
  '*.token',
  '*.adminToken',
  '*.twitchEventSubSecret',
  'secret',
  'token',
];

/** JSON logs on stdout (or the given destination), one line per event. */
export function createLogger(options: { level: LevelWithSilent; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'live-upload' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}
