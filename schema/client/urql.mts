// urql's normalized cache (graphcache) for Diplo, from apollo.json as Apollo's type policies are: `keys` says which
// objects have no id (pages, edges, page info, value objects: kept inside the object that holds them), and
// `relayPagination()` on every connection merges the pages of one listing, forwards and backwards (pages of the
// same field whose other arguments, its filter and order, are equal). Pass graphcache the schema too (codegen's
// `introspection.ts`): it then matches fragments on `Node` by the schema, not by guessing.
import { relayPagination } from '@urql/exchange-graphcache/extras';
import type { KeyingConfig, ResolverConfig } from '@urql/exchange-graphcache';
import apollo from './apollo.json' with { type: 'json' };

export const keys: KeyingConfig = Object.fromEntries(apollo.unkeyed.map((type) => [type, () => null]));

export const resolvers: ResolverConfig = Object.fromEntries(
  Object.entries(apollo.connections).map(([type, fields]) => [
    type,
    Object.fromEntries(Object.keys(fields).map((field) => [field, relayPagination()])),
  ]),
);
