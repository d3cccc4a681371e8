import { ADDON_PORT_ADDRESS } from "../config/addon-ports.js";
import { queryA, type DnsTransport } from "../util/dns-query.js";
import { UserError } from "../util/errors.js";

/**
 * Until a DNS query from the host through the addon's port gets an answer. Any answer counts, a
 * refusal of a name outside the server's zone too: it proves the server and the port serve.
 */
export async function waitForDnsAnswer(port: number, transport: DnsTransport, timeoutMs = 180_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    try {
      await queryA(ADDON_PORT_ADDRESS, port, "kubeyard-probe.", transport);
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > end) {
      throw new UserError(
        `DNS over ${transport.toUpperCase()} on ${ADDON_PORT_ADDRESS}:${port} did not answer within ${timeoutMs / 1000} s (last: ${last})`,
        "`kubectl get pods -A` and `kubectl describe` of the addon's pods show why.",
      );
    }
    // An answer is the event, and nothing can be watched for it: ask a few times a second.
    await new Promise((r) => setTimeout(r, 250));
  }
}
