import { UserError } from "../../util/errors.js";
import { messageOf } from "./engine-errors.js";

/**
 * Recognises a container start that failed in Podman's network backend for want of a host command:
 * netavark drives the firewall through `nft` (or iptables) and fails every container on a bridge
 * network when it is missing, e.g. "netavark (exit code 1): nftables error: unable to execute nft: No
 * such file or directory". Distributions list nftables as a recommendation only, so a minimal install lacks it.
 */
export function networkBackendError(err: unknown, what: string): UserError | undefined {
  const msg = messageOf(err);
  const m = /netavark[^:]*:.*unable to execute (\S+?):/i.exec(msg);
  if (!m) return undefined;
  const command = m[1];
  const pkg = command === "nft" ? "nftables" : command;
  return new UserError(
    `Cannot start ${what}: Podman's network backend (netavark) cannot run \`${command}\` (${msg.trim()}).`,
    `Install the ${pkg} package (e.g. \`sudo apt-get install ${pkg}\`), or set another firewall_driver in ` +
      "containers.conf [network]; every Podman container on a bridge network fails until then.",
  );
}
