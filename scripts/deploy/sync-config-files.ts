// npx tsx scripts/deploy/sync-config-files.ts [--check]
// Regenerates .env.example and the envVariables templates of cloudbaserc.json from
// shared/config/declaration.ts. --check changes nothing and exits 1 when either file has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCloudbaserc } from './cloudbaserc';
import { renderEnvExample, withDeclaredTemplates } from './env-example';

const root = resolve(__dirname, '..', '..');

export interface DeclaredFile {
  path: string;
  current: string;
  wanted: string;
}

/** The files derived from the declaration, as they are and as they should be. */
export function declaredFiles(dir = root): DeclaredFile[] {
  const envExample = join(dir, '.env.example');
  const rcPath = join(dir, 'cloudbaserc.json');
  return [
    { path: envExample, current: readFileSync(envExample, 'utf8'), wanted: renderEnvExample() },
    {
      path: rcPath,
      current: readFileSync(rcPath, 'utf8'),
      wanted: JSON.stringify(withDeclaredTemplates(loadCloudbaserc(rcPath)), null, 2) + '\n',
    },
  ];
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const drifted = declaredFiles().filter((f) => f.current !== f.wanted);
  for (const f of drifted) {
    if (check) console.error(`${f.path} differs from shared/config/declaration.ts`);
    else writeFileSync(f.path, f.wanted);
  }
  if (check && drifted.length > 0) {
    console.error('run npx tsx scripts/deploy/sync-config-files.ts to regenerate it');
    process.exit(1);
  }
  if (!check) console.log(drifted.length ? `rewrote ${drifted.map((f) => f.path).join(', ')}` : 'up to date');
}
