// PostGraphile 5 for bench/peer.py: the Amber preset with simplified inflection, over the database in
// DATABASE_URL, on 127.0.0.1 at PORT; no GraphiQL, no watch, no explain, as in production.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] })],
  // Undated meetings and statements sort last both ways, as in Diplo.
  schema: { pgOrderByNullsLast: true },
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT), graphiql: false, watch: false },
  grafast: { explain: false },
};

export default preset;
