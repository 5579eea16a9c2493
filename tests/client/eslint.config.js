// The schema lint (graphql-eslint's recommended schema rules) on the committed contract; CI wants zero findings.
// Run from the repository's root: tests/client/node_modules/.bin/eslint -c tests/client/eslint.config.js schema
import graphql from '@graphql-eslint/eslint-plugin';

export default [
  {
    files: ['schema/schema.graphql'],
    languageOptions: { parser: graphql.parser, parserOptions: { graphQLConfig: { schema: 'schema/schema.graphql' } } },
    plugins: { '@graphql-eslint': graphql },
    rules: {
      ...graphql.configs['flat/schema-recommended'].rules,
      // Pages, edges and page info are positions in a listing, not records; evidence, its quotes, translations and
      // dates, disputes, decisions and name reports are values of the record that holds them; facet counts are
      // answers about a filter: no id to
      // normalize them by.
      '@graphql-eslint/strict-id-in-types': [
        'error',
        {
          acceptedIdNames: ['id'],
          acceptedIdTypes: ['ID'],
          exceptions: {
            types: [
              'PageInfo', 'Evidence', 'TextQuote', 'DateSpan', 'Translation', 'FacetCount', 'Dispute', 'DisputedValue',
              'EditorialDecision', 'NameReport',
            ],
            suffixes: ['Connection', 'Edge', 'Facets'],
          },
        },
      ],
    },
  },
];
