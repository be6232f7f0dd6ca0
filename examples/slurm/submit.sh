#!/usr/bin/env bash
# Run in a directory holding calls/: submits load.sbatch (one part per array task) and a
# merge job that runs once every task has succeeded and writes study.h5 here. Options are
# passed to sbatch for the array job and override the script's #SBATCH lines, e.g. on a
# small machine:
#
#   examples/slurm/submit.sh --array=1-3 --cpus-per-task=1
#
# Prints the two job ids.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p parts
load=$(sbatch --parsable "$@" "$here/load.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$load" --kill-on-invalid-dep=yes \
  --job-name=txt2h5-merge --output=parts/slurm-merge-%j.out \
  --wrap 'txt2h5 merge parts/part-*.h5 -o study.h5 --force')
echo "$load $merge"
