import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { readRepoFile, repoPath } from './conventions';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const asObject = (v: unknown): JsonObject => (isObject(v) ? v : {});

export const asArray = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

export const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Parses one YAML document strictly: duplicate keys and syntax errors throw; `<<` merge keys (as Compose
 * uses them with `x-` anchors) are resolved.
 */
export function parseYaml(text: string): unknown {
  return parse(text, { merge: true, uniqueKeys: true, prettyErrors: true });
}

/** Every document of a multi-document YAML text, as plain data; throws on the first document with errors. */
export function parseYamlDocuments(text: string, label: string): unknown[] {
  return parseAllDocuments(text, { merge: true, uniqueKeys: true, prettyErrors: true })
    .map((doc, i) => {
      if (doc.errors.length)
        throw new Error(
          `${label} document ${i + 1}: ${doc.errors.map((e) => e.message).join('; ')}`,
        );
      return doc.toJS() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

export const readYaml = (rel: string): unknown => parseYaml(readRepoFile(rel));

/** Repository-relative paths of the `.yaml`/`.yml` files under `dir`, recursively, sorted. */
export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(repoPath(rel)).sort()) {
      const child = path.posix.join(rel, name);
      if (statSync(repoPath(child)).isDirectory()) walk(child);
      else if (/\.ya?ml$/.test(name)) out.push(child);
    }
  };
  walk(dir);
  return out;
}
