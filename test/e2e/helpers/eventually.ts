/**
 * Retries `attempt` until it returns without throwing, for conditions nothing can be watched for
 * (a URL answering from the host, an RBAC grant reaching the authorizer's cache). Throws the last
 * failure once `timeoutMs` has passed.
 */
export async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 120_000, intervalMs = 1_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
