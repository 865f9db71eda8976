#!/usr/bin/env node
// The `provenance` command's launcher. A committed, executable file: the
// compiled CLI in dist/ is rewritten by every build (losing its exec bit), so
// npx must not point at it directly.
require('../dist/functions/cli/main.js').main();
