// Apollo Client's cache for Diplo: `possibleTypes` for the `Node` interface, and `relayStylePagination` on every
// connection, keyed by its arguments other than `first`, `after`, `last` and `before` (both derived from the schema
// into apollo.json, which the test suite keeps current). Paginate through `edges` (with `pageInfo.endCursor` as
// `after`, or `pageInfo.startCursor` as `before`): the policy merges pages by their edges; a `nodes`-only selection
// is not merged across pages. The link is in apollo-link.mts.
import { relayStylePagination } from '@apollo/client/utilities';
import type { TypePolicies } from '@apollo/client';
import apollo from './apollo.json' with { type: 'json' };

export const possibleTypes: Record<string, string[]> = apollo.possibleTypes;

export const typePolicies: TypePolicies = Object.fromEntries(
  Object.entries(apollo.connections as Record<string, Record<string, string[]>>).map(([type, fields]) => [
    type,
    {
      fields: Object.fromEntries(
        Object.entries(fields).map(([field, keyArgs]) => [field, relayStylePagination(keyArgs.length ? keyArgs : false)]),
      ),
    },
  ]),
);
