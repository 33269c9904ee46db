/**
 * The Ajv options every schema of the server is compiled with, the socket's frames and the HTTP
 * routes alike: `minLength`/`maxLength` count UTF-16 units, the one rule of every length limit
 * (contract/limits.ts). Ajv's default counts code points, which let 4,000 emoji (8,000 units)
 * through a 4,000 limit.
 */

/** Ajv still honours `unicode: false` but warns that the option is deprecated, at every start. */
const UNICODE_NOTICE = /option unicode/;

export const utf16Lengths = {
  unicode: false,
  logger: {
    log: (...args: unknown[]) => console.log(...args),
    warn: (...args: unknown[]) => {
      if (!UNICODE_NOTICE.test(String(args[0]))) console.warn(...args);
    },
    error: (...args: unknown[]) => console.error(...args),
  },
};

/** Fastify's route schemas: types are checked, never converted (`{"nickname":123}` is refused, not stored as "123"). */
export const routeAjvOptions = { coerceTypes: false, ...utf16Lengths };
