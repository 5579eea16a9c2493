// graphql-codegen for a Diplo client, typed with the client preset: `strictScalars` makes an unmapped scalar an
// error rather than `any`; both of Diplo's are RFC 3339 strings. It also writes `introspection.ts`, the schema as
// urql's graphcache takes it. Copy this folder with schema/schema.graphql into your project (the schema is looked
// for beside this file, then where the repository keeps it); DIPLO_SCHEMA (a file, or a Diplo's /graphql URL),
// DIPLO_DOCUMENTS (default: src/**/*.graphql) and DIPLO_CODEGEN_OUT (default: src/gql/) change them.
import { existsSync } from 'node:fs';
import type { CodegenConfig } from '@graphql-codegen/cli';

const here = new URL('.', import.meta.url).pathname;
const schema =
  process.env.DIPLO_SCHEMA ?? [`${here}schema.graphql`, `${here}../schema.graphql`].find((path) => existsSync(path));
if (schema === undefined) throw new Error(`no schema.graphql beside ${here}: copy Diplo's, or set DIPLO_SCHEMA`);
const out = process.env.DIPLO_CODEGEN_OUT ?? 'src/gql/';

const config: CodegenConfig = {
  schema,
  documents: process.env.DIPLO_DOCUMENTS ?? 'src/**/*.graphql',
  generates: {
    [out]: {
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
    [`${out}introspection.ts`]: {
      plugins: ['urql-introspection'],
      // `import type`, so that the file passes `tsc` with `verbatimModuleSyntax` (Vite's templates set it).
      config: { useTypeImports: true, module: 'es2015' },
    },
  },
};

export default config;
