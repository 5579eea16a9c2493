// graphql-codegen for a Diplo client: the committed contract and operations, typed with the client preset.
// `strictScalars` makes an unmapped scalar an error rather than `any`; both of Diplo's are RFC 3339 strings.
// Copy this file beside your operations and change `documents` and the output folder to yours.
import type { CodegenConfig } from '@graphql-codegen/cli';

const here = new URL('.', import.meta.url).pathname;

const config: CodegenConfig = {
  schema: `${here}../schema.graphql`,
  documents: `${here}../operations/*.graphql`,
  generates: {
    [process.env.DIPLO_CODEGEN_OUT ?? 'src/gql/']: {
      preset: 'client',
      config: {
        strictScalars: true,
        scalars: {
          Date: { input: 'string', output: 'string' }, // RFC 3339 full-date: 2025-02-27
          DateTime: { input: 'string', output: 'string' }, // RFC 3339 date-time with its offset
        },
        enumsAsTypes: true,
        useTypeImports: true,
        // Relative imports with their .js extension, as Node's ES modules (and tsc's nodenext) need them.
        emitLegacyCommonJSImports: false,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
