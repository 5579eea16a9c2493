// Apollo Client's link for Diplo: automatic persisted queries over GET, hashed with Web Crypto (browsers and Node
// alike, nothing to polyfill), and GET requests without a `content-type` header. A GET with one is not a "simple"
// request, so a browser on another origin sends a CORS preflight first, and caches it per URL: one OPTIONS for
// every new page. Apollo's HttpLink sets `content-type: application/json` on every request; a GET has no body.
import { HttpLink } from '@apollo/client';
import type { ApolloLink } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

/** The lowercase hex SHA-256 of a document's text, as Diplo's persisted queries key it. */
export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** `fetch`, but a GET goes without `content-type`. */
export function fetchWithoutPreflight(fetcher: typeof fetch = globalThis.fetch): typeof fetch {
  return (input, init) => {
    if ((init?.method ?? 'GET').toUpperCase() !== 'GET' || init?.headers === undefined) return fetcher(input, init);
    const headers = new Headers(init.headers);
    headers.delete('content-type');
    return fetcher(input, { ...init, headers });
  };
}

/** The link to a Diplo at `uri` (its `/graphql`): persisted queries by GET, no preflight; `fetcher` to wrap. */
export function diploLink(uri: string, fetcher?: typeof fetch): ApolloLink {
  return new PersistedQueryLink({ sha256, useGETForHashedQueries: true })
    .concat(new HttpLink({ uri, fetch: fetchWithoutPreflight(fetcher) }));
}
