/**
 * How producerEncoding.ts and fetchDecoding.ts put their replacements of kafkajs internals in force: by
 * swapping a module's exports in Node's module cache before kafkajs loads the module that captures it.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `STREAMNORM_KAFKAJS_STOCK=1` keeps kafkajs's own internals (to compare, or to rule the replacements out). */
export const stock = process.env.STREAMNORM_KAFKAJS_STOCK === '1';

/**
 * Makes `fn` the exports of kafkajs module `id`, unless the module that captures it (`user`) is loaded already
 * (then it would keep the original) or {@link stock}. Returns whether the replacement is in force.
 */
export function replaceInternal(id: string, user: string, fn: unknown): boolean {
  if (stock || require.cache[require.resolve(user)] !== undefined) return false;
  const entry = require.cache[require.resolve(id)];
  if (entry === undefined) return false;
  entry.exports = fn;
  return true;
}
