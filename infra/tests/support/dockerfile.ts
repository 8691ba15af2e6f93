export interface Instruction {
  /** upper-case instruction, e.g. `RUN` */
  op: string;
  args: string;
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): { preamble: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  if (current.trim()) logical.push(current.trim());

  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim() };
    if (ins.op === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      stages.push({ from: f?.[1] ?? ins.args, name: f?.[2], instructions: [] });
    } else if (stages.length) stages[stages.length - 1]!.instructions.push(ins);
    else preamble.push(ins);
  }
  return { preamble, stages };
}

/** Resolves `${NAME}` in a FROM line from the global ARG defaults. */
export function resolveFrom(from: string, preamble: Instruction[]): string {
  const defaults: Record<string, string> = {};
  for (const ins of preamble) {
    const m = /^(\w+)=(\S+)$/.exec(ins.args);
    if (ins.op === 'ARG' && m) defaults[m[1]!] = m[2]!;
  }
  return from.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (_, a: string | undefined, b: string | undefined) => defaults[(a ?? b)!] ?? '',
  );
}

const RUNTIME_IMAGE = 'node:20-bookworm-slim';

/**
 * House rules every service image follows, as a list of problems (empty = fine): npm install (never npm ci,
 * TOOLCHAIN pitfall 1), a builder stage running nx build, a node:20-bookworm-slim runtime stage with a non-root
 * numeric user, NODE_ENV=production, HOST=0.0.0.0, a HEALTHCHECK on /health/live and an exec-form CMD.
 */
export function checkServiceDockerfile(text: string, buildCommand: RegExp): string[] {
  const problems: string[] = [];
  const { preamble, stages } = parseDockerfile(text);
  const all = stages.flatMap((s) => s.instructions);
  const runs = all.filter((i) => i.op === 'RUN').map((i) => i.args);

  if (runs.some((r) => /\bnpm\s+ci\b/.test(r))) {
    problems.push(
      "uses npm ci (the lock file lacks other platforms' optional packages): use npm install",
    );
  }
  const builder = stages.find((s) =>
    s.instructions.some((i) => i.op === 'RUN' && buildCommand.test(i.args)),
  );
  if (!builder) problems.push(`no build step matching ${buildCommand}`);
  else if (
    !builder.instructions.some(
      (i) => i.op === 'RUN' && /\bnpm install --no-audit --no-fund\b/.test(i.args),
    )
  ) {
    problems.push('the build stage does not run `npm install --no-audit --no-fund`');
  }
  if (stages.length < 2) problems.push('not a multi-stage build');

  const runtime = stages[stages.length - 1];
  if (!runtime) return [...problems, 'no stage at all'];
  const image = resolveFrom(runtime.from, preamble);
  if (image !== RUNTIME_IMAGE) problems.push(`runtime stage is ${image}, not ${RUNTIME_IMAGE}`);

  const users = runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args);
  const user = users[users.length - 1];
  if (!user) problems.push('runtime stage runs as root (no USER)');
  else if (!/^[1-9]\d*(:\d+)?$/.test(user))
    problems.push(
      `USER ${user} must be a numeric non-root uid (runAsNonRoot can verify only that)`,
    );

  const env = runtime.instructions
    .filter((i) => i.op === 'ENV')
    .map((i) => i.args)
    .join(' ');
  if (!/\bNODE_ENV=production\b/.test(env))
    problems.push('runtime stage lacks ENV NODE_ENV=production');
  if (!/\bHOST=0\.0\.0\.0\b/.test(env)) problems.push('runtime stage lacks ENV HOST=0.0.0.0');

  const health = runtime.instructions.find((i) => i.op === 'HEALTHCHECK');
  // The probed path is either in the HEALTHCHECK itself or the default of a HEALTH_PATH build argument.
  const healthPathArg = runtime.instructions.some(
    (i) => i.op === 'ARG' && i.args === 'HEALTH_PATH=/health/live',
  );
  if (!health) problems.push('runtime stage has no HEALTHCHECK');
  else if (
    !(health.args.includes('/health/live') || healthPathArg) ||
    !/"node"|\bnode\b/.test(health.args)
  ) {
    problems.push('HEALTHCHECK must fetch /health/live with node');
  }

  const cmd = runtime.instructions.filter((i) => i.op === 'CMD').pop();
  if (!cmd) problems.push('runtime stage has no CMD');
  else if (!cmd.args.startsWith('['))
    problems.push('CMD must use the exec form (signals reach node)');

  const builderCopies = runtime.instructions.filter(
    (i) => i.op === 'COPY' && /--from=builder\b/.test(i.args),
  );
  if (builderCopies.some((c) => /\bnode_modules\b/.test(c.args))) {
    problems.push("runtime copies the builder's node_modules (dev dependencies included)");
  }
  return problems;
}

/** The JSON array of an exec-form instruction (`CMD ["node", "main.js"]`). */
export function execForm(args: string): string[] {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}
