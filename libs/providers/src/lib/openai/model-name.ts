/** The upstream name of a requested (public) model under a channel's mapping; itself when unmapped. */
export function upstreamModelName(
  mapping: Readonly<Record<string, string>> | null | undefined,
  requested: string,
): string {
  const mapped = mapping ? mapping[requested] : undefined;
  return typeof mapped === 'string' &&
    mapped.length > 0 &&
    Object.prototype.hasOwnProperty.call(mapping, requested)
    ? mapped
    : requested;
}

/**
 * Sets the top-level `model` of a JSON object text to `model` (the name the client asked for),
 * re-serialising only when it differs. Throws SyntaxError when the text is not a JSON object.
 */
export function rewriteModelInJson(text: string, model: string): string {
  const body: unknown = JSON.parse(text);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new SyntaxError('not a JSON object');
  const o = body as { model?: unknown };
  if (o.model === model) return text;
  o.model = model;
  return JSON.stringify(o);
}
