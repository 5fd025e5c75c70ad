import { runCli } from './src/program.ts';

/** `jobengine` / `npm run cli -- …`: see docs/cli.md. */
process.exitCode = await runCli(process.argv.slice(2));
