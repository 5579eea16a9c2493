// Diplo's GraphiQL: every file comes from this server (no CDN), and it opens on an example of Diplo's own.
const EXAMPLE = `# Diplo: diplomatic meetings from news articles.
# Run this with the pink button (or Ctrl-Enter); the docs
# (top left) show every type. Listings are pages: follow
# pageInfo.endCursor with \`after\`.
query MeetingWithDelegations($key: String!) {
  meeting(key: $key) {
    id
    title
    date
    city
    delegations {
      id
      country { id code name }
      head { id name }
    }
  }
}
`;
const VARIABLES = JSON.stringify({ key: 'us-russia-talks-istanbul-2025-02-27' }, null, 2);

const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher, defaultQuery: EXAMPLE, variables: VARIABLES, defaultEditorToolsVisibility: 'variables',
  }),
);
