// npm run deploy [-- --dry-run] [--only payNotify,refundNotify] [--env-file path] [--skip-build]
// See scripts/deploy/run.ts and the README section "Deploy to CloudBase".
import { parseArgs, runDeploy } from './deploy/run';

if (require.main === module) {
  (async () => {
    const result = await runDeploy(parseArgs(process.argv.slice(2)));
    process.exit(result.ok ? 0 : 1);
  })().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
