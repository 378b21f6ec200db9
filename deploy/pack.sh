#!/usr/bin/env bash
# Packs the AccessLayer command-line tools as .NET tools into a local feed (a folder of .nupkg files):
#   deploy/pack.sh [--output DIR] [--version X.Y.Z] [--no-build]
#     (defaults: artifacts/tools, the version in deploy/tools/Tool.props; --no-build packs the Release build already there)
# Then, for example:
#   dotnet tool install --tool-path ~/.accesslayer/tools --add-source artifacts/tools AccessLayer.Bots
#   dotnet tool install --tool-path ~/.accesslayer/tools --add-source artifacts/tools AccessLayer.Mlpcurl
#   ~/.accesslayer/tools/accesslayer-bots --help ; ~/.accesslayer/tools/mlpcurl --help
# (or `dotnet tool install --global ...` to put accesslayer-bots and mlpcurl on the PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
OUTPUT=artifacts/tools
VERSION=""
NO_BUILD=""
while [ $# -gt 0 ]; do
  case $1 in
    --output) OUTPUT=$2; shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --no-build) NO_BUILD=--no-build; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deploy/pack.sh: unknown argument $1 (--output DIR, --version X.Y.Z, --no-build)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUTPUT"
for project in bots/AccessLayer.Bots.csproj client-sdk/AccessLayer.Client.Cli/AccessLayer.Client.Cli.csproj; do
  dotnet pack "$project" -c Release -nologo -v q -o "$OUTPUT" $NO_BUILD ${VERSION:+-p:Version="$VERSION"} >&2
done
ls -1 "$OUTPUT"/*.nupkg
