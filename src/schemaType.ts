// The TypeScript type of the value a JSON Schema (written `as const`) accepts, after Ajv
// has filled in defaults: the config's type is derived from its schema, so the two cannot
// drift. Covers the keywords the config schema uses; a schema using another typing keyword
// comes out as `unknown`, which the compiler then refuses wherever the value is used.

/** `type: [a, b]` is a or b. */
type OneOf<T> = T extends readonly (infer E)[] ? E : T;

type Prettify<T> = { [K in keyof T]: T[K] } & {};

type Scalar<T> = T extends 'string' ? string : T extends 'integer' | 'number' ? number : T extends 'boolean' ? boolean : T extends 'null' ? null : never;

/** A property is always there when the schema requires it or gives it a default. */
type Present<S, K> = K extends (S extends { required: readonly (infer R)[] } ? R : never)
  ? true
  : S extends { properties: { [P in K & string]: { default: unknown } } }
    ? true
    : false;

type ObjectOf<S, P> = Prettify<
  { -readonly [K in keyof P as Present<S, K> extends true ? K : never]: FromSchema<P[K]> } & {
    -readonly [K in keyof P as Present<S, K> extends true ? never : K]?: FromSchema<P[K]>;
  }
>;

export type FromSchema<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { anyOf: readonly (infer A)[] }
    ? A extends unknown
      ? FromSchema<A>
      : never
    : S extends { type: 'object'; properties: infer P }
      ? ObjectOf<S, P>
      : S extends { type: 'object'; additionalProperties: infer A }
        ? Record<string, FromSchema<A>>
        : S extends { type: 'array'; items: infer I }
          ? FromSchema<I>[]
          : S extends { type: infer T }
            ? Scalar<OneOf<T>>
            : unknown;
