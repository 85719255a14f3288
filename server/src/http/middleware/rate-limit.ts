import type { Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../errors/index.js';
import type { AppState } from '../app-state.js';

/**
 * Per client address: `pointsPerMinute` requests a minute, then 429 with `Retry-After`.
 * `keyOf` replaces the address as the key (the audience beacons count a salted hash of the
 * client's network, so not even the limiter's memory holds an address).
 */
export function rateLimitPerClient(pointsPerMinute: number, keyPrefix: string, keyOf: (ip: string) => string = (ip) => ip): Middleware<AppState> {
  const limiter = new RateLimiterMemory({ points: pointsPerMinute, duration: 60, keyPrefix });
  return async (ctx, next) => {
    try {
      const result = await limiter.consume(keyOf(ctx.ip || 'unknown'));
      ctx.set('RateLimit-Limit', String(pointsPerMinute));
      ctx.set('RateLimit-Remaining', String(result.remainingPoints));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError('rate_limited', `too many requests; retry in ${retryAfter} s`, {
        headers: { 'Retry-After': String(retryAfter) },
      });
    }
    await next();
  };
}
