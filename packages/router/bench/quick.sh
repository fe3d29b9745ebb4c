#!/bin/sh
# quick A/B: strata vs find-my-way on both sets (not the published benchmark)
for s in small github; do for r in strata find-my-way ${EXTRA}; do printf "%s %s " $s $r; npx tsx bench/worker.ts $r $s time 300 5; echo; done; done
