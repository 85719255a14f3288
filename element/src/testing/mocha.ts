/**
 * Mocha's BDD functions, typed. web-test-runner installs them as globals before it loads a test
 * file; the repo has no @types/mocha, and globals for the browser tests should not leak into the
 * Node code's types.
 */
export interface MochaContext {
  timeout(ms: number): void;
  /** Marks the test pending (and stops it). */
  skip(): never;
}

type Body = (this: MochaContext) => void | Promise<void>;

interface MochaBdd {
  describe(title: string, body: () => void): void;
  it(title: string, body: Body): void;
  before(body: Body): void;
  after(body: Body): void;
  beforeEach(body: Body): void;
  afterEach(body: Body): void;
}

export const { describe, it, before, after, beforeEach, afterEach } = globalThis as unknown as MochaBdd;
