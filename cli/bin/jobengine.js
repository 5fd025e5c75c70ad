#!/usr/bin/env node
// The `jobengine` command (package.json "bin"): runs the TypeScript CLI through tsx, as `npm run cli` does.
import { register } from 'tsx/esm/api';

register();
await import('../main.ts');
