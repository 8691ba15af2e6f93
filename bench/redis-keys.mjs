/** Deletes every key matching a pattern (SCAN + UNLINK, bounded); returns how many were deleted. */
export async function deletePrefix(redis, pattern) {
  let cursor = '0';
  let n = 0;
  for (let i = 0; i < 100_000; i++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await redis.unlink(...keys);
    if (cursor === '0') break;
  }
  return n;
}
