/**
 * Redaction: secrets never reach a log line, an error message or a metric. One function, {@link redact},
 * is applied by the loggers (a pino formatter and `redact` paths, see {@link redactingLoggerOptions}), by
 * the configuration errors and by the Kafka connection errors.
 *
 * What it hides:
 * - credentials in a broker or URL: `user:pass@host:9092`, `token@host:9092`, `https://u:p@host/` → `***@host…`;
 * - `password=…`, `sasl.password: …`, `"password":"…"`, `secret`, `token`, `apiKey` values;
 * - `Authorization: Basic …` / `Bearer …` values;
 * - PEM private key blocks;
 * - every value registered with {@link registerSecret} (the passwords and key passphrases the CLI loads from
 *   config, environment or files), wherever it appears.
 *
 * @example
 * redact("bad value for brokers: got 'user:hunter2@broker:9092'") // "bad value for brokers: got '***@broker:9092'"
 */

/** What a redacted value is replaced with. */
export const REDACTED = '***';

const secrets = new Set<string>();

/**
 * Remembers a secret loaded at run time (a password, a key passphrase) so that {@link redact} hides it
 * wherever it shows up, even where no pattern would recognize it. Values shorter than 4 characters are
 * not registered: hiding every `a` would make logs unreadable while protecting nothing.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= 4) secrets.add(value);
}

/** Forgets the registered secrets (tests). */
export function clearRegisteredSecrets(): void {
  secrets.clear();
}

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"<>]+@/gi;
/** `creds@host:port` anywhere: the part before `@` is userinfo, whatever it looks like. */
const HOST_USERINFO = /(^|[\s'"`=,;([{<])[^\s'"`=,;([{<@/]+@(?=\[?[A-Za-z0-9.:_-]+\]?:\d{1,5}\b)/g;
const KEY_VALUE =
  /(?<!\bfor\s[a-z0-9_.-]*)\b((?:[a-z0-9_.-]*[._-])?(?:password|passwd|passphrase|secret|token|api[_-]?key)(?:[._-]file)?)(\s*[=:]\s*)(['"]?)(?!\*\*\*)([^\s'",;&}]+)/gi;
const JSON_KEY_VALUE =
  /("(?:[a-z0-9_.-]*[._-])?(?:password|passwd|passphrase|secret|token|api[_-]?key)")(\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
const AUTH_HEADER = /\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{4,}/g;

/** Hides every secret in `text` (see the module comment for what counts as one). */
export function redact(text: string): string {
  if (typeof text !== 'string' || text.length === 0) return text;
  let out = text;
  if (secrets.size > 0) {
    // Longest first, so a secret containing another is hidden whole.
    for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
  }
  return out
    .replace(PRIVATE_KEY, '[private key redacted]')
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(HOST_USERINFO, `$1${REDACTED}@`)
    .replace(JSON_KEY_VALUE, `$1$2"${REDACTED}"`)
    .replace(KEY_VALUE, (_m, key: string, sep: string, quote: string, value: string) =>
      // `password_file=/run/secrets/x` names a file, not a secret: keep the path.
      /[._-]file$/i.test(key) ? `${key}${sep}${quote}${value}` : `${key}${sep}${quote}${REDACTED}`,
    )
    .replace(AUTH_HEADER, `$1 ${REDACTED}`);
}

/** A broker address with any credentials before `@` hidden: `user:pw@host:9092` → `***@host:9092`. */
export function redactBroker(address: string): string {
  const at = address.lastIndexOf('@');
  return redact(at < 0 ? address : `${REDACTED}@${address.slice(at + 1)}`);
}

/** Keys whose values are secrets wherever they appear in a logged object. */
const SECRET_KEY = /^(?:.*[._-])?(?:password|passwd|passphrase|secret|token|api[_-]?key|authorization)$/i;

/**
 * A deep copy of `value` with every string redacted, every secret-named key's value replaced and every
 * Error turned into `{ type, message, stack, code }` redacted. Cycles and depth beyond 8 become `'[…]'`.
 */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; cause?: unknown };
    const out: Record<string, unknown> = { type: e.name, message: redact(e.message) };
    if (e.stack !== undefined) out.stack = redact(e.stack);
    if (e.code !== undefined) out.code = e.code;
    if (e.cause !== undefined) out.cause = redactDeep(e.cause, depth + 1, seen);
    return out;
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? REDACTED : redactDeep(v, depth + 1, seen);
  }
  return out;
}

/**
 * pino options that pass every log line through the redaction: `redact` paths for the well-known secret
 * fields (cheap, by path), a `formatters.log` that redacts every string of the logged object (errors
 * included), and a `hooks.logMethod` that redacts the message. Spread into `pino({...})`.
 */
export function redactingLoggerOptions(): {
  redact: { paths: string[]; censor: string };
  formatters: { log: (obj: Record<string, unknown>) => Record<string, unknown> };
  hooks: { logMethod: (this: unknown, args: unknown[], method: (...a: unknown[]) => void) => void };
} {
  return {
    redact: {
      paths: [
        'password',
        '*.password',
        'sasl.password',
        '*.sasl.password',
        'ssl.key',
        '*.ssl.key',
        'ssl.passphrase',
        '*.ssl.passphrase',
        'headers.authorization',
        '*.headers.authorization',
      ],
      censor: REDACTED,
    },
    formatters: { log: (obj) => redactDeep(obj) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redact(a) : a)),
        );
      },
    },
  };
}
