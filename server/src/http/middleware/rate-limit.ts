import type { Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../../errors/index.js';
import type { AppState } from '../app-state.js';

/** Per client address: `pointsPerMinute` requests a minute, then 429 with `Retry-After`. */
export function rateLimitPerClient(pointsPerMinute: number, keyPrefix: string): Middleware<AppState> {
  const limiter = new RateLimiterMemory({ points: pointsPerMinute, duration: 60, keyPrefix });
  return async (ctx, next) => {
    try {
      const result = await limiter.consume(ctx.ip || 'unknown');
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
