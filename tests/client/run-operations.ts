// Every committed operation through Apollo Client and through urql, each with the client kit (schema/client,
// copied into kit/ as a consumer would), against a live `diplo serve`, each answer compared with its committed JSON
// from the server and then from the client's normalized cache alone:
// - Apollo: the kit's link (automatic persisted queries over GET, hashed with Web Crypto, no `content-type` on a
//   GET) and its type policies; every GET it sent is checked for that header.
// - urql: graphcache with the kit's `keys` and `resolvers` and the generated introspection, GET by default; each
//   operation on a client of its own, as graphcache merges every page of a listing it has seen into one.
// Any warning either client prints (Apollo's "Cache data may be lost", graphcache's missing keys) fails the run.
// Usage: node --conditions=development dist/run-operations.js http://127.0.0.1:PORT/graphql
import { deepStrictEqual } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { ApolloClient, InMemoryCache } from '@apollo/client';
import type { TypedDocumentNode } from '@apollo/client';
import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import * as documents from './generated/graphql.js';
import schema from './generated/introspection.js';
import { diploLink } from './kit/apollo-link.mjs';
import { possibleTypes, typePolicies } from './kit/type-policies.mjs';
import { keys, resolvers } from './kit/urql.mjs';

const url = process.argv[2];
const operations = new URL('../../../schema/operations/', import.meta.url);
const complaints: unknown[][] = [];
for (const level of ['warn', 'error'] as const) {
  console[level] = (...args: unknown[]) => { complaints.push(args); };
}

const sent: { method: string; headers: Headers }[] = [];
const recording: typeof fetch = (input, init) => {
  sent.push({ method: (init?.method ?? 'GET').toUpperCase(), headers: new Headers(init?.headers) });
  return fetch(input, init);
};
const apollo = new ApolloClient({
  link: diploLink(url, recording),
  cache: new InMemoryCache({ possibleTypes, typePolicies }),
});

function withoutTypename(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTypename);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '__typename').map(([k, v]) => [k, withoutTypename(v)]));
  }
  return value;
}

// Typed use of the generated types: scalars are strings, enums unions, lists non-null where the schema says so.
const typed = await apollo.query({ query: documents.MeetingWithDelegationsDocument, variables: { key: 'us-russia-talks-istanbul-2025-02-27' } });
const date: string | null | undefined = typed.data?.meeting?.date;
const code: string | undefined = typed.data?.meeting?.delegations[0]?.country.code;
const published: string | undefined = typed.data?.meeting?.sources[0]?.publishedAt;
if (!date || !code || !published) throw new Error('typed fields missing');

let ran = 0;
for (const file of readdirSync(operations).filter((name) => name.endsWith('.graphql')).sort()) {
  const text = readFileSync(new URL(file, operations), 'utf-8');
  const name = /query\s+(\w+)/.exec(text)?.[1];
  const document = (documents as Record<string, unknown>)[`${name}Document`] as TypedDocumentNode<object> | undefined;
  if (!document) throw new Error(`${file}: no generated document for ${name}`);
  const expected: { variables: Record<string, unknown>; data: unknown } = JSON.parse(readFileSync(new URL(file.replace(/\.graphql$/, '.json'), operations), 'utf-8'));
  for (const policy of ['network-only', 'cache-only'] as const) {  // from the server, then from the cache alone
    const result: { data?: unknown } = await apollo.query({ query: document, variables: expected.variables, fetchPolicy: policy });
    deepStrictEqual(withoutTypename(result.data), expected.data, `${file} (Apollo, ${policy})`);
  }
  const urql = new Client({ url, exchanges: [cacheExchange({ keys, resolvers, schema }), fetchExchange] });
  for (const policy of ['network-only', 'cache-only'] as const) {
    const result = await urql.query(document, expected.variables, { requestPolicy: policy }).toPromise();
    if (result.error) throw new Error(`${file} (urql, ${policy}): ${result.error.message}`);
    deepStrictEqual(withoutTypename(result.data), expected.data, `${file} (urql, ${policy})`);
  }
  ran += 1;
}
const gets = sent.filter((request) => request.method === 'GET');
if (gets.length === 0) throw new Error('Apollo sent no GET: persisted queries should go by GET');
const preflighted = gets.filter((request) => request.headers.has('content-type'));
if (preflighted.length) throw new Error(`${preflighted.length} of ${gets.length} GETs carried a content-type`);
if (complaints.length) throw new Error(`a client complained: ${JSON.stringify(complaints)}`);
console.log(`${ran} operations answered as committed through Apollo Client and urql, from the server and from the cache`);
console.log(`Apollo: ${gets.length} GET requests, none with a content-type`);
