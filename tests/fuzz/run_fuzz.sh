#!/bin/sh
# Runs the parser fuzzer for a while over a fresh copy of the seed corpus.
#   run_fuzz.sh FUZZER CORPUS DICT WORKDIR SECONDS [WHY-NOT-BUILT]
# Exit 77 (ctest SKIP_RETURN_CODE) when the fuzzer could not be built.
fuzzer=$1 corpus=$2 dict=$3 work=$4 secs=$5 why=$6
if [ -z "$fuzzer" ] || [ ! -x "$fuzzer" ]; then
	echo "SKIP: fuzz_parser not run: ${why:-the fuzzer binary is missing}"
	exit 77
fi
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
cp "$corpus"/* "$work/corpus/" || exit 1
exec "$fuzzer" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	-dict="$dict" -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus"
