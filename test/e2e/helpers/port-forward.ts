import { execa } from "execa";
import { kubectlPath, type TestUser } from "./cli.js";

export interface PortForward {
  /** The local port kubectl chose on 127.0.0.1. */
  port: number;
  close: () => Promise<void>;
}

/**
 * Runs `kubectl port-forward <target> :<remote>` as the user and resolves once kubectl prints the
 * local port it listens on; the caller must close() it.
 */
export async function portForward(
  user: TestUser,
  namespace: string,
  target: string,
  remotePort: number,
  timeoutMs = 60_000,
): Promise<PortForward> {
  const child = execa(await kubectlPath(), ["-n", namespace, "port-forward", "--address", "127.0.0.1", target, `:${remotePort}`], {
    env: user.env,
    reject: false,
    buffer: false,
  });
  const close = async () => {
    child.kill("SIGTERM");
    await child;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`kubectl port-forward printed no port within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        // "Forwarding from 127.0.0.1:41234 -> 8080"
        const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      void child.then((r) => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward exited (${r.exitCode}) before forwarding:\n${out}`));
      });
    });
    return { port, close };
  } catch (err) {
    await close();
    throw err;
  }
}
