#!/usr/bin/env bash
# Brings Runtime/PublicAPI.Unshipped.txt up to date with the code: rebuilds Kiln.Runtime, adds every symbol the
# PublicApiAnalyzers report as new (RS0016) and drops every declared symbol that no longer exists (RS0017; a
# symbol from PublicAPI.Shipped.txt is marked *REMOVED* instead, which is a breaking change to review).
# Run it after merging branches that add public API, then review `git diff Runtime/PublicAPI.*.txt`.
# Usage: eng/update-public-api.sh [project.csproj]   (default: Runtime/Kiln.Runtime.csproj)
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:-Runtime/Kiln.Runtime.csproj}
dir=$(dirname "$project")
shipped="$dir/PublicAPI.Shipped.txt"
unshipped="$dir/PublicAPI.Unshipped.txt"
[ -f "$shipped" ] || echo '#nullable enable' >"$shipped"
[ -f "$unshipped" ] || echo '#nullable enable' >"$unshipped"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Rebuild so the analyzers run on every file; the API diagnostics (and missing doc comments) must not stop it.
dotnet build "$project" -c Release --no-incremental -nologo -clp:NoSummary \
  -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= >"$log" 2>&1 || true

grep -q "Build succeeded\|warning RS00\|error RS00" "$log" || { cat "$log"; echo "update-public-api: the build failed before the analyzers ran" >&2; exit 1; }
if grep -q ": error CS" "$log"; then grep ": error CS" "$log" | sort -u >&2; echo "update-public-api: fix the compile errors first" >&2; exit 1; fi

python3 - "$log" "$shipped" "$unshipped" <<'PY'
import re, sys
log, shipped_path, unshipped_path = sys.argv[1:]
text = open(log, encoding="utf-8").read()
added = set(re.findall(r"RS0016: Symbol '(.+?)' is not part of the declared public API", text))
removed = set(re.findall(r"RS0017: Symbol '(.+?)' is part of the declared API, but is either not public or could not be found", text))
def read(path):
    return [l.rstrip("\n") for l in open(path, encoding="utf-8")]
shipped = set(read(shipped_path))
lines = read(unshipped_path)
header = [l for l in lines if l.startswith("#")] or ["#nullable enable"]
body = {l for l in lines if l and not l.startswith("#")}
body -= removed
body |= {"*REMOVED*" + s for s in removed if s in shipped}
body |= added
with open(unshipped_path, "w", encoding="utf-8", newline="\n") as f:
    f.write("\n".join(header + sorted(body, key=lambda s: (s[len("*REMOVED*"):] if s.startswith("*REMOVED*") else s, s))) + "\n")
print(f"{unshipped_path}: +{len(added)} new, -{len(removed)} removed, {len(body)} entries")
PY
