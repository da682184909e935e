// npm run db-setup [-- --local <emulator url>] [--env-file .env] [--dry-run]
// Creates the collections of docs/data-model.md#collections with the server SDK, then sets their security rules and indexes
// with @cloudbase/manager-node (which the server SDK cannot do); without an API key, or when the API
// refuses, it prints the exact console steps instead (README "Deploy to CloudBase"). --dry-run
// prints what it would do and changes nothing.
import { resolve, join } from 'node:path';
import tcb from '@cloudbase/node-sdk';
import { openLocalDatabase } from '../local/cloudbase/sdk-env';
import { readEnvFile } from './deploy/run';
import { ensureCollections, type CollectionCreator } from './db-setup/collections';
import { DATABASE_PLAN, consoleSteps } from './db-setup/plan';
import { applyRulesAndIndexes } from './db-setup/rules-and-indexes';
import { cloudbaseDatabaseAdmin, describeApiError } from './db-setup/cloudbase-manager';

const root = resolve(__dirname, '..');

export interface DbSetupOptions {
  local?: string;
  envFile?: string;
  /** Print the plan (the console steps) and change nothing. */
  dryRun?: boolean;
  log?: (line: string) => void;
  /** For tests: the database handle that creates the collections in cloud mode. */
  db?: CollectionCreator;
}

export async function runDbSetup(opts: DbSetupOptions): Promise<{ created: string[]; existing: string[] }> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const names = DATABASE_PLAN.map((c) => c.name);
  const nothing = { created: [], existing: [] };
  const createCollections = async (db: CollectionCreator, envId: string) => {
    const result = await ensureCollections(db, names);
    log(
      `collections in ${envId}: created ${result.created.join(', ') || '(none)'}; already there ${result.existing.join(', ') || '(none)'}`,
    );
    return result;
  };
  if (opts.local) {
    if (opts.dryRun) {
      log(`dry run: nothing is changed; db-setup would create ${names.join(', ')} on ${opts.local}`);
      return nothing;
    }
    return createCollections(openLocalDatabase(opts.local), 'local');
  }

  const env = readEnvFile(opts.envFile ?? join(root, '.env'));
  const envId = (env.TCB_ENV_ID ?? '').trim();
  if (!envId) throw new Error('TCB_ENV_ID is not set in .env; set it to your CloudBase environment id');
  if (opts.dryRun) {
    log(`dry run: nothing is changed in ${envId}. db-setup would create and configure:`);
    for (const line of consoleSteps(DATABASE_PLAN, envId, true)) log(line);
    return nothing;
  }
  const secretId = (env.TENCENTCLOUD_SECRETID ?? process.env.TENCENTCLOUD_SECRETID ?? '').trim();
  const secretKey = (env.TENCENTCLOUD_SECRETKEY ?? process.env.TENCENTCLOUD_SECRETKEY ?? '').trim();
  if (!secretId || !secretKey) {
    log(
      'TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY are not set, so nothing was created. Either set them in .env (访问管理 → API密钥管理) and rerun, or do it by hand:',
    );
    for (const line of consoleSteps(DATABASE_PLAN, envId, true)) log(line);
    return nothing;
  }
  const result = await createCollections(
    opts.db ?? tcb.init({ env: envId, secretId, secretKey }).database(),
    envId,
  );
  try {
    const admin = cloudbaseDatabaseAdmin(envId, { secretId, secretKey });
    const r = await applyRulesAndIndexes(admin, DATABASE_PLAN);
    log(`security rules set on ${r.rules.join(', ')}`);
    log(
      `indexes created: ${r.indexesCreated.join(', ') || '(none)'}; already there: ${r.indexesExisting.join(', ') || '(none)'}`,
    );
  } catch (err) {
    log(
      `setting rules and indexes through the API failed (${describeApiError(err)}); set them in the console instead:`,
    );
    for (const line of consoleSteps(DATABASE_PLAN, envId)) log(line);
  }
  return result;
}

function parseArgs(argv: string[]): DbSetupOptions {
  const opts: DbSetupOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--local') opts.local = argv[++i] ?? 'http://127.0.0.1:3200';
    else if (a === '--env-file') opts.envFile = resolve(argv[++i] ?? '.env');
    else if (a === '--dry-run') opts.dryRun = true;
    else throw new Error(`unknown option ${a}; use --local <emulator url>, --env-file <path> or --dry-run`);
  }
  return opts;
}

if (require.main === module) {
  runDbSetup(parseArgs(process.argv.slice(2))).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
