// A Relay consumer of Diplo, for the Relay compiler only (tests/test_client.py compiles it with the kit's
// relay.config.json): a listing paged both ways with @connection, and a fragment spread on `Node`, which Relay asks
// to be aliased (@alias) as it may not match the node's type.
declare function graphql(strings: TemplateStringsArray): unknown;

export const meetingsList = graphql`
  fragment MeetingsList_query on Query
  @refetchable(queryName: "MeetingsListPaginationQuery")
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 10 }
    cursor: { type: "String" }
    last: { type: "Int" }
    before: { type: "String" }
  ) {
    meetings(first: $count, after: $cursor, last: $last, before: $before, orderBy: DATE_DESC)
    @connection(key: "MeetingsList_meetings") {
      edges {
        node {
          id
          date
          ...MeetingCard_meeting
        }
      }
    }
  }
`;

export const meetingCard = graphql`
  fragment MeetingCard_meeting on Meeting {
    id
    title
    date
    sources { publishedAt }
    statements(last: 3, orderBy: DATE_ASC) @connection(key: "MeetingCard_statements") {
      edges { node { id text translations { language text } } }
    }
  }
`;

export const meetingQuery = graphql`
  query MeetingsListNodeQuery($id: ID!) {
    node(id: $id) {
      ...MeetingCard_meeting @alias
    }
  }
`;
