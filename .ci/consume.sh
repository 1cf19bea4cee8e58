#!/usr/bin/env bash
# Consumption test: uses Kiln the way the README tells a user to, from packages, in a folder outside the repository.
#   1. `dotnet pack Dsl.sln` into a local folder feed (exactly the Kiln, Kiln.Orleans and Kiln.Templates packages);
#   2. a fresh console project with its own nuget.config (the local feed plus nuget.org) adds Kiln, writes a model,
#      builds warning-free, trains a few epochs and predicts;
#   3. the planted pitfall (sigmoid in a hidden layer) shows KLN0101 in `dotnet build`; .editorconfig can raise it to
#      an error; a model error (non-partial class) is a KLN error with no CS errors from generated code; a compiler
#      older than Roslyn 4.14 stops the build with KLNSDK01;
#   4. the templates install (into a private template cache) and kiln-mlp / kiln-cnn build warning-free and train
#      to >= 95% test accuracy on the embedded digits with their defaults.
# Each check prints PASS/FAIL; the last line is "consume: N passed, M failed". The consumer's NuGet package and HTTP
# caches are private to the run, so a re-pack of the same version is never shadowed by a stale cached copy.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-consume.XXXXXX")
case "$work" in "$repo"/*) echo "consume: the work folder must be outside the repository"; exit 1 ;; esac
trap '[ "${KEEP_CONSUME:-0}" = 1 ] || rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
feed="$work/feed" hive="$work/template-hive" log="$work/log"
mkdir -p "$feed" "$log"

passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS consume: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL consume: $1"; [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 40 "$2" | sed 's/^/    /'; }
finish() { echo "consume: $passed passed, $failed failed"; exit $((failed > 0)); }
# Build output with no warnings at all ("0 Warning(s)" in the summary).
warning_free() { grep -q "^ *0 Warning(s)" "$1" && ! grep -q ": warning " "$1"; }

# --- 1. pack -----------------------------------------------------------------------------------------------------
if dotnet pack "$repo/Dsl.sln" -c Release -o "$feed" >"$log/pack.txt" 2>&1; then pass "dotnet pack Dsl.sln exits 0"
else fail "dotnet pack Dsl.sln exits 0" "$log/pack.txt"; finish; fi
ls "$feed"
kiln=$(ls "$feed"/Kiln.[0-9]*.nupkg 2>/dev/null | head -1)
templates=$(ls "$feed"/Kiln.Templates.[0-9]*.nupkg 2>/dev/null | head -1)
orleans=$(ls "$feed"/Kiln.Orleans.[0-9]*.nupkg 2>/dev/null | head -1)
others=$(ls "$feed" | grep -v -E '^Kiln\.([0-9]|Templates\.[0-9]|Orleans\.[0-9])' || true)
if [ -n "$kiln" ] && [ -n "$templates" ] && [ -n "$orleans" ] && [ -z "$others" ]; then pass "the feed holds exactly Kiln, Kiln.Orleans and Kiln.Templates"
else fail "the feed holds exactly Kiln, Kiln.Orleans and Kiln.Templates (others: ${others:-none})"; finish; fi
version=$(basename "$kiln" .nupkg); version=${version#Kiln.}
echo "Kiln version $version"
contents=$(unzip -Z1 "$kiln")
missing=""
for f in lib/net10.0/Kiln.Runtime.dll lib/net10.0/Kiln.Runtime.xml analyzers/dotnet/cs/Kiln.Generator.dll \
         analyzers/dotnet/cs/Kiln.Analyzers.dll analyzers/dotnet/cs/Kiln.CodeFixes.dll buildTransitive/Kiln.targets \
         README.md icon.png LICENSE; do
  grep -qx "$f" <<<"$contents" || missing="$missing $f"
done
[ -z "$missing" ] && pass "Kiln package layout (lib, analyzers/dotnet/cs, buildTransitive, readme, icon, licence)" \
                  || fail "Kiln package layout: missing$missing"

# --- 2. a fresh project that adds the package -------------------------------------------------------------------
# From here on NuGet's caches are private to this run (packing above used the normal ones for the repo's own builds).
export NUGET_PACKAGES="$work/nuget-packages" NUGET_HTTP_CACHE_PATH="$work/nuget-http-cache"
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="kiln-local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="kiln-local"><package pattern="Kiln" /><package pattern="Kiln.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
EOF
app="$work/MyNet"
dotnet new console -o "$app" >"$log/new.txt" 2>&1 && (cd "$app" && dotnet add package Kiln --version "$version" >"$log/add.txt" 2>&1) \
  && pass "dotnet new console + dotnet add package Kiln" || { fail "dotnet new console + dotnet add package Kiln" "$log/add.txt"; finish; }

cat >"$app/Program.cs" <<'EOF'
using Kiln;
using Kiln.Data;
using Kiln.Training;

DataSplit split = EmbeddedData.DigitsSplit();
DataSplit holdout = split.Train.ValidationSplit(0.15, seed: 1);
var model = new DigitsNet();
model.FitInputNormalization(holdout.Train.Features, holdout.Train.Count);
RunSummary run = Trainer.Fit(model, holdout.Train, holdout.Test, epochs: 5, batchSize: 32);
Console.WriteLine($"steps: {run.History.Count} epochs, validation accuracy {run.FinalValidationAccuracy:F4}");
var probabilities = new float[10];
model.Predict(split.Test.Row(0), probabilities, batch: 1);
Console.WriteLine($"prediction: {Array.IndexOf(probabilities, probabilities.Max())} label {split.Test.Labels[0]} sum {probabilities.Sum():F3}");

[Model(Input = 64, MaxBatch = 32, Seed = 42, Normalize = InputNormalization.PerFeature)]
[Dense(64), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam(LearningRate = 2e-3)]
public partial class DigitsNet;
EOF
if (cd "$app" && dotnet build -c Release >"$log/build.txt" 2>&1) && warning_free "$log/build.txt"; then pass "the new project builds warning-free"
else fail "the new project builds warning-free" "$log/build.txt"; fi
if (cd "$app" && dotnet run -c Release --no-build >"$log/run.txt" 2>&1) && grep -q "^steps: 5 epochs" "$log/run.txt" \
   && grep -q "^prediction: [0-9] label [0-9] sum 1.000" "$log/run.txt"; then pass "it trains and predicts"; cat "$log/run.txt"
else fail "it trains and predicts" "$log/run.txt"; fi

(cd "$app" && dotnet build -c Debug >"$log/debug-build.txt" 2>&1 && dotnet run -c Debug --no-build >"$log/debug-run.txt" 2>"$log/debug-stderr.txt")
if [ "$(grep -c "compiled without optimisations (a Debug build)" "$log/debug-stderr.txt")" = 1 ]; then pass "a Debug build warns once on standard error"
else fail "a Debug build warns once on standard error" "$log/debug-stderr.txt"; fi

# --- 3. diagnostics in the user's build ---------------------------------------------------------------------------
cat >"$app/Pitfall.cs" <<'EOF'
using Kiln;

[Model(Input = 64, MaxBatch = 32, Seed = 1)]
[Dense(32), Sigmoid]
[Dense(10), SoftmaxCrossEntropy]
[Sgd(LearningRate = 0.1)]
public partial class SigmoidNet;
EOF
(cd "$app" && dotnet build -c Release --no-incremental >"$log/pitfall.txt" 2>&1)
grep -q "Pitfall.cs(4,[0-9]*): warning KLN0101" "$log/pitfall.txt" && pass "a sigmoid hidden layer shows warning KLN0101 in dotnet build" \
  || fail "a sigmoid hidden layer shows warning KLN0101 in dotnet build" "$log/pitfall.txt"
printf '[*.cs]\ndotnet_diagnostic.KLN0101.severity = error\n' >"$app/.editorconfig"
(cd "$app" && dotnet build -c Release --no-incremental >"$log/editorconfig.txt" 2>&1)
grep -q "error KLN0101" "$log/editorconfig.txt" && pass ".editorconfig raises KLN0101 to an error" \
  || fail ".editorconfig raises KLN0101 to an error" "$log/editorconfig.txt"
rm -f "$app/.editorconfig" "$app/Pitfall.cs"

cat >"$app/Broken.cs" <<'EOF'
using Kiln;

[Model(Input = 64, MaxBatch = 32, Seed = 1)]
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public class NotPartial { }
EOF
(cd "$app" && dotnet build -c Release --no-incremental >"$log/broken.txt" 2>&1)
if grep -q "Broken.cs([0-9,]*): error KLN0001" "$log/broken.txt" && ! grep -q "error CS" "$log/broken.txt"; then
  pass "a non-partial model class gives KLN0001 and no CS errors"
else fail "a non-partial model class gives KLN0001 and no CS errors" "$log/broken.txt"; fi
rm -f "$app/Broken.cs"

cat >"$app/Misspelt.cs" <<'EOF'
using Kiln;

[Model(Input = 64, MaxBatch = 32, Seed = 1)]
[Dense(16, Initt = Init.HeNormal), ReLU]
[Dense(10), SoftmaxCrossEntropy]
[Adam]
public partial class MisspeltNet;
EOF
(cd "$app" && dotnet build -c Release --no-incremental >"$log/misspelt.txt" 2>&1)
if grep -q "Misspelt.cs(4,[0-9]*): error KLN0020: 'Initt' is not an argument of \\[Dense\\]; did you mean 'Init'?" "$log/misspelt.txt" \
   && ! grep "error CS" "$log/misspelt.txt" | grep -qv "Misspelt.cs"; then
  pass "a misspelt attribute argument gives KLN0020 on the attribute and no errors from generated code"
else fail "a misspelt attribute argument gives KLN0020 on the attribute and no errors from generated code" "$log/misspelt.txt"; fi
rm -f "$app/Misspelt.cs"

(cd "$app" && dotnet build -c Release --no-incremental -p:CompilerApiVersion=roslyn4.8 >"$log/oldcompiler.txt" 2>&1)
grep -q "error KLNSDK01" "$log/oldcompiler.txt" && pass "a compiler older than Roslyn 4.14 stops the build with KLNSDK01" \
  || fail "a compiler older than Roslyn 4.14 stops the build with KLNSDK01" "$log/oldcompiler.txt"

(cd "$app" && dotnet build -c Release -p:EmitCompilerGeneratedFiles=true >"$log/emit.txt" 2>&1)
generated=$(find "$app/obj" -path "*generated*" -name "DigitsNet*.g.cs" | head -1)
[ -n "$generated" ] && grep -q "partial class DigitsNet" "$generated" && pass "EmitCompilerGeneratedFiles writes the model ($(basename "$generated"))" \
  || fail "EmitCompilerGeneratedFiles writes the model" "$log/emit.txt"

# --- 4. templates --------------------------------------------------------------------------------------------------
if dotnet new install "$templates" --debug:custom-hive "$hive" >"$log/install.txt" 2>&1; then pass "dotnet new install Kiln.Templates"
else fail "dotnet new install Kiln.Templates" "$log/install.txt"; finish; fi
for t in kiln-mlp kiln-cnn; do
  dir="$work/$t"
  if ! dotnet new "$t" -o "$dir" --debug:custom-hive "$hive" >"$log/$t-new.txt" 2>&1; then fail "dotnet new $t" "$log/$t-new.txt"; continue; fi
  cp "$work/nuget.config" "$dir/"
  if (cd "$dir" && dotnet build -c Release >"$log/$t-build.txt" 2>&1) && warning_free "$log/$t-build.txt"; then pass "$t builds warning-free"
  else fail "$t builds warning-free" "$log/$t-build.txt"; continue; fi
  (cd "$dir" && dotnet run -c Release --no-build >"$log/$t-run.txt" 2>&1)
  accuracy=$(sed -n 's/^Test accuracy: \([0-9.]*\).*/\1/p' "$log/$t-run.txt")
  if [ -n "$accuracy" ] && awk "BEGIN { exit !($accuracy >= 95) }" && grep -q "^First test image: predicted" "$log/$t-run.txt"; then
    pass "$t trains to $accuracy% test accuracy (>= 95%), saves, reloads and predicts"
  else fail "$t trains to >= 95% test accuracy and predicts (got '${accuracy:-none}')" "$log/$t-run.txt"; fi
done
dir="$work/with-fashion"
if dotnet new kiln-mlp -o "$dir" --IncludeFashionMnist true --debug:custom-hive "$hive" >"$log/fashion-new.txt" 2>&1 \
   && cp "$work/nuget.config" "$dir/" && (cd "$dir" && dotnet build -c Release >"$log/fashion-build.txt" 2>&1) \
   && warning_free "$log/fashion-build.txt" && [ -f "$dir/FashionData.cs" ]; then pass "kiln-mlp --IncludeFashionMnist true builds warning-free"
else fail "kiln-mlp --IncludeFashionMnist true builds warning-free" "$log/fashion-build.txt"; fi
finish
