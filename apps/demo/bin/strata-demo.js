#!/usr/bin/env node
// The `strata-demo` command. A committed file, so that `pnpm install` can link the bin before the
// demo is built (apps/bench depends on @strata/demo); the CLI itself is the built dist/cli.js.
import '../dist/cli.js';
