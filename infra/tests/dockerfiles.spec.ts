import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  entryBuilt,
  entrySource,
  nodeServices,
  readRepoFile,
  repoFileExists,
  repoPath,
} from './support/conventions';
import { checkServiceDockerfile, execForm, parseDockerfile } from './support/dockerfile';

const NODE_SERVICE = 'infra/docker/node-service.Dockerfile';
const PORTAL = 'infra/docker/portal.Dockerfile';
const NX_BUILD = /\bnpx nx run "?\$\{APP\}:build"?/;
const PORTAL_BUILD = /\bnpx nx run portal:build\b/;

const runtimeOf = (text: string) => parseDockerfile(text).stages.at(-1)!;
const last = (text: string, op: string): string =>
  runtimeOf(text)
    .instructions.filter((i) => i.op === op)
    .at(-1)?.args ?? '';

interface ProjectJson {
  targets?: Record<string, unknown>;
}
const projectJson = (dir: string): ProjectJson =>
  JSON.parse(readRepoFile(`${dir}/project.json`)) as ProjectJson;

describe('infra/docker/node-service.Dockerfile', () => {
  const text = readRepoFile(NODE_SERVICE);

  it('follows the house rules for service images', () => {
    expect(checkServiceDockerfile(text, NX_BUILD)).toEqual([]);
  });

  it('installs only production dependencies into the runtime image', () => {
    const { stages } = parseDockerfile(text);
    const deps = stages.find((s) =>
      s.instructions.some((i) => i.op === 'RUN' && /npm install --omit=dev\b/.test(i.args)),
    );
    expect(deps?.name).toBeDefined();
    expect(runtimeOf(text).instructions).toContainEqual({
      op: 'COPY',
      args: `--from=${deps!.name} /app/node_modules ./node_modules`,
    });
  });

  it.each(Object.keys(nodeServices))(
    'runs %s from the built entries folder of the conventions',
    (project) => {
      const kind = nodeServices[project]!.kind;
      const workdir = last(text, 'WORKDIR')
        .replace(/\$\{APP_KIND\}/g, kind)
        .replace(/\$\{APP\}/g, project);
      expect(`${workdir}/main.js`).toBe(`/app/${entryBuilt(project, 'main')}`);
    },
  );

  it.each(Object.entries(nodeServices).flatMap(([p, c]) => c.entries.map((e) => [p, e] as const)))(
    '%s has the source of its %s entry',
    (project, entry) => {
      expect(repoFileExists(entrySource(project, entry))).toBe(true);
    },
  );

  it('starts the API entry by default', () => {
    expect(execForm(last(text, 'CMD'))).toEqual(['node', 'main.js']);
  });

  it.each(Object.entries(nodeServices))('%s is an Nx project with a build target', (project, c) => {
    const dir = `${c.kind}/${project}`;
    expect(repoFileExists(`${dir}/project.json`)).toBe(true);
    expect(projectJson(dir).targets?.['build']).toBeDefined();
  });

  const buildTsconfig = (project: string, kind: string): string =>
    `${kind}/${project}/${kind === 'apps' ? 'tsconfig.app.json' : 'tsconfig.lib.json'}`;

  it.each(
    Object.entries(nodeServices).filter(([p, c]) => repoFileExists(`${c.kind}/${p}/project.json`)),
  )('%s builds into the dist folder the image copies', (project, c) => {
    const tsconfig = JSON.parse(readRepoFile(buildTsconfig(project, c.kind))) as {
      compilerOptions?: { outDir?: string; rootDir?: string };
    };
    expect(tsconfig.compilerOptions?.outDir).toBe(`../../dist/${c.kind}/${project}`);
    expect(tsconfig.compilerOptions?.rootDir).toBe('../..');
  });

  it('copies the health probe it runs', () => {
    expect(text).toContain('COPY infra/docker/healthcheck.cjs ./healthcheck.cjs');
    expect(last(text, 'HEALTHCHECK')).toContain('/app/healthcheck.cjs');
    expect(runtimeOf(text).instructions).toContainEqual({
      op: 'ENV',
      args: expect.stringContaining('HEALTH_PATH=${HEALTH_PATH}'),
    });
  });
});

describe('infra/docker/portal.Dockerfile', () => {
  const text = readRepoFile(PORTAL);

  it('follows the house rules for service images', () => {
    expect(checkServiceDockerfile(text, PORTAL_BUILD)).toEqual([]);
  });

  it('serves the standalone output the portal is configured to produce', () => {
    const config = readRepoFile('apps/portal/next.config.mjs');
    expect(config).toMatch(/output:\s*['"]standalone['"]/);
    expect(execForm(last(text, 'CMD'))).toEqual(['node', 'apps/portal/server.js']);
    expect(text).toContain('/workspace/apps/portal/.next/static ./apps/portal/.next/static');
    expect(projectJson('apps/portal').targets?.['build']).toBeDefined();
  });

  it('listens on all interfaces on port 3000', () => {
    const env = runtimeOf(text)
      .instructions.filter((i) => i.op === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toMatch(/\bHOSTNAME=0\.0\.0\.0\b/);
    expect(env).toMatch(/\bPORT=3000\b/);
  });
});

describe('the Dockerfile checks catch what they are meant to', () => {
  const text = readRepoFile(NODE_SERVICE);

  it('reports npm ci', () => {
    const broken = text.replace('npm install --no-audit --no-fund', 'npm ci');
    expect(checkServiceDockerfile(broken, NX_BUILD)).toEqual(
      expect.arrayContaining([
        "uses npm ci (the lock file lacks other platforms' optional packages): use npm install",
        'the build stage does not run `npm install --no-audit --no-fund`',
      ]),
    );
  });

  it('reports a runtime that runs as root', () => {
    expect(checkServiceDockerfile(text.replace(/^USER .*$/m, ''), NX_BUILD)).toContain(
      'runtime stage runs as root (no USER)',
    );
    expect(checkServiceDockerfile(text.replace(/^USER .*$/m, 'USER node'), NX_BUILD)).toContain(
      'USER node must be a numeric non-root uid (runAsNonRoot can verify only that)',
    );
  });

  it('reports a runtime image other than node:20-bookworm-slim and a missing health check', () => {
    const broken = text
      .replace('ARG NODE_IMAGE=node:20-bookworm-slim', 'ARG NODE_IMAGE=node:22')
      .replace(/^HEALTHCHECK[^\n]*\\\n[^\n]*\n/m, '');
    expect(checkServiceDockerfile(broken, NX_BUILD)).toEqual(
      expect.arrayContaining([
        'runtime stage is node:22, not node:20-bookworm-slim',
        'runtime stage has no HEALTHCHECK',
      ]),
    );
  });
});

describe('.dockerignore', () => {
  const lines = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim());

  it('keeps dependencies, build output, secrets and git out of the build context', () => {
    expect(lines).toEqual(
      expect.arrayContaining(['**/node_modules', 'dist', '.git', '**/.env', '**/.next']),
    );
  });
});

describe('infra/docker/healthcheck.cjs', () => {
  const script = repoPath('infra/docker/healthcheck.cjs');
  let sut: Server;
  let port: number;
  let status = 200;
  const seen: string[] = [];

  beforeAll(async () => {
    sut = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => sut.listen(0, '127.0.0.1', resolve));
    port = (sut.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) =>
      sut.close((err) => (err ? reject(err) : resolve())),
    );
  });

  const probe = (env: Record<string, string>, args: string[] = []): Promise<number> =>
    new Promise((resolve) => {
      const clean = { PATH: process.env['PATH'] ?? '', ...env };
      execFile(
        process.execPath,
        [script, ...args],
        { env: clean, timeout: 10_000, cwd: path.dirname(script) },
        (err) => resolve(err ? (typeof err.code === 'number' ? err.code : 99) : 0),
      );
    });

  it('succeeds when /health/live answers 2xx on PORT', async () => {
    status = 200;
    await expect(probe({ PORT: String(port) })).resolves.toBe(0);
    expect(seen.at(-1)).toBe('/health/live');
  });

  it('prefers HEALTH_PORT and probes the path it is given', async () => {
    status = 200;
    await expect(probe({ PORT: '1', HEALTH_PORT: String(port) }, ['/health/ready'])).resolves.toBe(
      0,
    );
    expect(seen.at(-1)).toBe('/health/ready');
  });

  it('fails when the service answers 503', async () => {
    status = 503;
    await expect(probe({ PORT: String(port) })).resolves.toBe(1);
  });

  it('fails on a redirect instead of following it', async () => {
    status = 307;
    await expect(probe({ PORT: String(port) })).resolves.toBe(1);
  });

  it('fails when no port is configured', async () => {
    await expect(probe({})).resolves.toBe(1);
  });
});
