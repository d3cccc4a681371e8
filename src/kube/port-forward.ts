import net from "node:net";
import { Writable } from "node:stream";
import { PortForward, type KubeConfig } from "@kubernetes/client-node";
import { UserError } from "../util/errors.js";
import { listObjects } from "./object-api.js";
import { podReady } from "./readiness.js";

export interface PodForwardOptions {
  namespace: string;
  /** A label selector; each new connection goes to a ready pod it matches. */
  selector: string;
  /** The pod's port. */
  podPort: number;
  /** The local address; kubeyard only ever listens on loopback. */
  host: string;
  /** The local port; 0 takes a free one. */
  localPort: number;
  /** Told of a connection that could not be forwarded (no ready pod, the pod refused it). */
  onError?: (message: string) => void;
}

export interface PodForward {
  /** The local port listened on. */
  port: number;
  close: () => Promise<void>;
}

/**
 * Listens on host:localPort and forwards every connection, through the API server's port-forward
 * (WebSocket), to a ready pod of the selector, the way `kubectl port-forward` does, but choosing the
 * pod again once the one in use is gone, so a restarted pod does not end the forwarding.
 */
export async function forwardToPods(kc: KubeConfig, opts: PodForwardOptions): Promise<PodForward> {
  const forwarder = new PortForward(kc, true);
  let current: string | undefined;

  const readyPod = async (): Promise<string> => {
    if (current) return current;
    const pods = await listObjects(kc, { apiVersion: "v1", kind: "Pod", namespace: opts.namespace, labelSelector: opts.selector });
    const pod = pods.items.find((p) => !p.metadata?.deletionTimestamp && podReady(p));
    if (!pod?.metadata?.name) throw new Error(`no ready pod in namespace ${opts.namespace} matches ${opts.selector}`);
    current = pod.metadata.name;
    return current;
  };

  const sockets = new Set<net.Socket>();
  const forward = async (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // The socket is read by the forwarder only once it is connected: pause until then.
    socket.pause();
    socket.on("error", () => socket.destroy());
    let pod: string;
    try {
      pod = await readyPod();
    } catch (err) {
      opts.onError?.((err as Error).message);
      socket.destroy();
      return;
    }
    // Stream 1 carries the kubelet's errors for the connection (e.g. nothing listens on the port).
    const errors = new Writable({
      write(chunk: Buffer, _enc, done) {
        const text = chunk.toString().trim();
        if (text) {
          opts.onError?.(`pod ${pod}: ${text}`);
          socket.destroy();
        }
        done();
      },
    });
    try {
      const ws = (await forwarder.portForward(opts.namespace, pod, [opts.podPort], socket, errors, socket)) as unknown as {
        on(event: string, fn: (...args: unknown[]) => void): void;
        close(): void;
      };
      ws.on("close", () => socket.end());
      ws.on("error", () => socket.destroy());
      socket.on("close", () => ws.close());
      socket.resume();
    } catch (err) {
      // The pod may be gone: the next connection looks for a ready one again.
      current = undefined;
      opts.onError?.(`cannot forward to pod ${pod}: ${(err as Error).message}`);
      socket.destroy();
    }
  };

  const server = net.createServer((socket) => void forward(socket));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        reject(
          new UserError(
            `port ${opts.localPort} on ${opts.host} is in use`,
            "Choose another with --port, or leave --port out to take a free one.",
          ),
        );
      } else if (err.code === "EACCES") {
        reject(
          new UserError(`port ${opts.localPort} on ${opts.host} may not be used by this user`, "Choose a port above 1023 with --port."),
        );
      } else {
        reject(err);
      }
    });
    server.listen(opts.localPort, opts.host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
