import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root (infra/tests/support → ../../..). */
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export const repoPath = (...parts: string[]): string => path.join(repoRoot, ...parts);

export const readRepoFile = (rel: string): string => readFileSync(repoPath(rel), 'utf8');

export const repoFileExists = (rel: string): boolean => existsSync(repoPath(rel));

/**
 * The process entries of each Node service image (SESSION-CONVENTIONS, "Process entries"): built to
 * `dist/<kind>/<project>/<kind>/<project>/src/<entry>.js` from `<kind>/<project>/src/<entry>.ts`.
 */
export interface NodeServiceConvention {
  kind: 'apps' | 'libs';
  entries: readonly string[];
  /** the port the main entry listens on by default */
  port: number;
}

export const nodeServices: Readonly<Record<string, NodeServiceConvention>> = {
  accounts: { kind: 'apps', entries: ['main', 'migrate', 'rebuild-projections'], port: 3001 },
  billing: { kind: 'apps', entries: ['main', 'worker', 'migrate'], port: 3002 },
  proxy: { kind: 'apps', entries: ['main'], port: 8080 },
  'mock-provider': { kind: 'libs', entries: ['cli'], port: 18000 },
};

export const BILLING_WORKER_HEALTH_PORT = 3012;
export const PORTAL_PORT = 3000;

/** Where an entry's source lives, e.g. `apps/billing/src/worker.ts`. */
export function entrySource(project: string, entry: string): string {
  const c = nodeServices[project];
  if (!c) throw new Error(`no convention for project ${project}`);
  return `${c.kind}/${project}/src/${entry}.ts`;
}

/** Where an entry is built, e.g. `dist/apps/billing/apps/billing/src/worker.js`. */
export function entryBuilt(project: string, entry: string): string {
  const c = nodeServices[project];
  if (!c) throw new Error(`no convention for project ${project}`);
  return `dist/${c.kind}/${project}/${c.kind}/${project}/src/${entry}.js`;
}

/** Environment names every service reads (SESSION-CONVENTIONS, "Common env"), by process. */
export const requiredEnv = {
  accounts: [
    'HOST',
    'PORT',
    'DATABASE_URL',
    'DB_SCHEMA',
    'REDIS_URL',
    'JWT_SECRET',
    'TOLLGATE_ENCRYPTION_KEY',
  ],
  'accounts-migrate': ['DATABASE_URL', 'DB_SCHEMA'],
  'billing-api': ['HOST', 'PORT', 'DATABASE_URL', 'DB_SCHEMA', 'REDIS_URL', 'JWT_SECRET'],
  'billing-worker': ['HOST', 'HEALTH_PORT', 'DATABASE_URL', 'DB_SCHEMA', 'REDIS_URL'],
  'billing-migrate': ['DATABASE_URL', 'DB_SCHEMA'],
  proxy: ['HOST', 'PORT', 'REDIS_URL', 'TOLLGATE_ENCRYPTION_KEY'],
  portal: ['PORT', 'ACCOUNTS_URL', 'BILLING_URL'],
} as const satisfies Record<string, readonly string[]>;

/** Values that are secrets: they must come from the operator, never from a default in a committed file. */
export const secretEnv = ['JWT_SECRET', 'TOLLGATE_ENCRYPTION_KEY'] as const;

/**
 * Whether the portal (Next.js App Router, apps/portal/src/app) has a page or route handler for `urlPath`.
 * Route groups such as `(auth)` do not appear in URLs, so they are looked through.
 */
export function portalServes(urlPath: string): boolean {
  const segments = urlPath.split('/').filter(Boolean);
  const search = (dir: string, rest: string[]): boolean => {
    if (!existsSync(dir)) return false;
    const entries = readdirSync(dir, { withFileTypes: true });
    if (
      rest.length === 0 &&
      entries.some((e) => e.isFile() && /^(page|route)\.(tsx?|jsx?)$/.test(e.name))
    ) {
      return true;
    }
    return entries.some(
      (e) =>
        e.isDirectory() &&
        ((/^\(.+\)$/.test(e.name) && search(path.join(dir, e.name), rest)) ||
          (rest.length > 0 && e.name === rest[0] && search(path.join(dir, e.name), rest.slice(1)))),
    );
  };
  return search(repoPath('apps/portal/src/app'), segments);
}
