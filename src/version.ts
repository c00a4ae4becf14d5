import { readFileSync } from 'node:fs';

/**
 * The package version, read once from package.json (one level above both `src/` and `dist/`), so the
 * CLI's `--version` and `streamnorm_build_info` never disagree with the published package.
 */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
