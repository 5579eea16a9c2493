#!/usr/bin/env bash
# Refresh GraphiQL's files in api/server/graphiql/ from the npm registry: the pinned versions below, with their licences.
# Diplo serves them itself, so GraphiQL works without internet. Bump a version here, run this, commit the result.
set -euo pipefail
GRAPHIQL=3.9.0  # the last GraphiQL that ships a browser (UMD) bundle
REACT=18.3.1    # GraphiQL 3 takes React 16 to 18; 19 has no UMD bundle
out="$(cd "$(dirname "$0")/.." && pwd)/api/graphiql"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for tarball in *.tgz; do mkdir "${tarball%.tgz}" && tar xzf "$tarball" -C "${tarball%.tgz}"; done
copy() {  # without the sourceMappingURL comment: the maps are not shipped
  sed '/^\/[*/]# sourceMappingURL=/d' "$1" > "$out/$(basename "$1")"
}
copy "graphiql-$GRAPHIQL/package/graphiql.min.js"
copy "graphiql-$GRAPHIQL/package/graphiql.min.css"
copy "react-$REACT/package/umd/react.production.min.js"
copy "react-dom-$REACT/package/umd/react-dom.production.min.js"
cp "graphiql-$GRAPHIQL/package/LICENSE" "$out/LICENSE-graphiql.txt"
cp "react-$REACT/package/LICENSE" "$out/LICENSE-react.txt"
cp "react-dom-$REACT/package/LICENSE" "$out/LICENSE-react-dom.txt"
printf 'graphiql %s\nreact %s\nreact-dom %s\n' "$GRAPHIQL" "$REACT" "$REACT" > "$out/VERSIONS"
echo "api/graphiql: graphiql $GRAPHIQL, react $REACT"
