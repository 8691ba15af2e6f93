import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';

/** The real services the tests talk to (defaults: the machine's local PostgreSQL and Redis). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A short unique name for one test file's schema / key prefix: lower-case, safe in SQL identifiers. */
export function uniqueName(label: string): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9]/g, '_').slice(0, 30);
  return `t_${clean}_${randomBytes(4).toString('hex')}`;
}

export interface TestSchema {
  url: string;
  schema: string;
  drop(): Promise<void>;
}

/**
 * Creates an empty schema of its own for one test file in the shared test database, so files can
 * run in parallel. `drop()` removes it with everything in it.
 */
export async function createTestSchema(label: string, url = TEST_DATABASE_URL): Promise<TestSchema> {
  const schema = uniqueName(label);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
  return {
    url,
    schema,
    async drop() {
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TestRedisPrefix {
  /** key prefix for projections, e.g. `t_x_ab12cd34:` */
  prefix: string;
  /** BullMQ prefix (hash-tagged), e.g. `{t_x_ab12cd34}` */
  queuePrefix: string;
  url: string;
  /** deletes every key under both prefixes */
  clean(): Promise<void>;
}

export function createTestRedisPrefix(label: string, url = TEST_REDIS_URL): TestRedisPrefix {
  const name = uniqueName(label);
  const prefix = `${name}:`;
  const queuePrefix = `{${name}}`;
  return {
    prefix,
    queuePrefix,
    url,
    async clean() {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
      await r.connect();
      try {
        for (const pattern of [`${prefix}*`, `${queuePrefix}*`]) {
          let cursor = '0';
          do {
            const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
            cursor = next;
            if (keys.length) await r.del(...keys);
          } while (cursor !== '0');
        }
      } finally {
        r.disconnect();
      }
    },
  };
}
