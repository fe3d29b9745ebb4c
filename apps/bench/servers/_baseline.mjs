// Preloaded (`--import`) by the runner's `--baseline DIR` server: every `@strata/*` import of the
// bench server resolves to DIR's built packages (`DIR/packages/NAME/dist/index.js`) instead of this
// checkout's, so the same server file measures an earlier build of the stack in the same run.
import { register } from 'node:module';

register('./_baseline-hooks.mjs', import.meta.url, { data: { dir: process.env.STRATA_BASELINE } });
