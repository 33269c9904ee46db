/**
 * Ajv options of Fastify's route schemas: types are checked, never converted (`{"nickname":123}`
 * is refused, not stored as "123"), and `minLength`/`maxLength` count UTF-16 units, the one rule
 * of every length limit (contract/limits.ts).
 */

/** Ajv still honours `unicode: false` but warns that the option is deprecated, at every start. */
const UNICODE_NOTICE = /option unicode/;

export const routeAjvOptions = {
  coerceTypes: false,
  unicode: false,
  logger: {
    log: (...args: unknown[]) => console.log(...args),
    warn: (...args: unknown[]) => {
      if (!UNICODE_NOTICE.test(String(args[0]))) console.warn(...args);
    },
    error: (...args: unknown[]) => console.error(...args),
  },
};
