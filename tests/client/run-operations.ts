// Every committed operation through Apollo Client (normalized cache with Diplo's type policies, automatic
// persisted queries over GET) against a live `diplo serve`, each answer compared with its committed JSON.
// Any warning Apollo prints (such as "Cache data may be lost") fails the run.
// Usage: node --conditions=development dist/run-operations.js http://127.0.0.1:PORT/graphql
import { deepStrictEqual } from 'node:assert';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import type { TypedDocumentNode } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import * as documents from './generated/graphql.js';
import { possibleTypes, typePolicies } from './kit/type-policies.mjs';  // schema/client, copied as a consumer would

const url = process.argv[2];
const operations = new URL('../../../schema/operations/', import.meta.url);
const complaints: unknown[][] = [];
for (const level of ['warn', 'error'] as const) {
  console[level] = (...args: unknown[]) => { complaints.push(args); };
}

const client = new ApolloClient({
  link: new PersistedQueryLink({ sha256: (text: string) => createHash('sha256').update(text).digest('hex'), useGETForHashedQueries: true })
    .concat(new HttpLink({ uri: url })),
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
const typed = await client.query({ query: documents.MeetingWithDelegationsDocument, variables: { key: 'us-russia-talks-istanbul-2025-02-27' } });
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
    const result: { data?: unknown } = await client.query({ query: document, variables: expected.variables, fetchPolicy: policy });
    deepStrictEqual(withoutTypename(result.data), expected.data, `${file} (${policy})`);
  }
  ran += 1;
}
if (complaints.length) throw new Error(`Apollo complained: ${JSON.stringify(complaints)}`);
console.log(`${ran} operations answered as committed, from the server and from the cache`);
