/** What a bus implementation logs through: the subset of pino it needs. */
export interface BusLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Drops everything: the default when no logger is given. */
export const silentBusLogger: BusLogger = {
  warn: () => undefined,
  info: () => undefined,
};
