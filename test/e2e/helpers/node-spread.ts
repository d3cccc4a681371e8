import type { Kubectl } from "./kubectl.js";
import { kubectlOk } from "./kubectl.js";
import { BUSYBOX } from "./node-images.js";

/** Where a pod runs: its name, its Node's and its IP. */
export interface PodPlace {
  name: string;
  node: string;
  ip: string;
}

/** The pods `selector` matches in `namespace`, with where each runs. */
export async function podsOf(user: Kubectl, namespace: string, selector: string): Promise<PodPlace[]> {
  const out = await kubectlOk(
    user,
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    selector,
    "-o",
    'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP}{"\\n"}{end}',
  );
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [name = "", node = "", ip = ""] = l.split(" ");
      return { name, node, ip };
    });
}

/**
 * The command that fetches `url` from inside a pod, bounded by `timeout` rather than wget's own -T (Debian's
 * static busybox wget crashes with -T).
 */
export function wgetCommand(url: string, seconds = 3): string[] {
  return ["timeout", String(seconds), "wget", "-q", "-O", "-", url];
}

/**
 * A DaemonSet `every` with one busybox httpd pod on each node (the tainted ones too) answering its pod's
 * name on 8080, and a Service `every` on port 80: what tests of traffic between nodes reach.
 */
export function everyNodeWeb(namespace: string): string {
  return `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: every, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: every}}
  template:
    metadata: {labels: {app: every}}
    spec:
      terminationGracePeriodSeconds: 0
      tolerations: [{operator: Exists}]
      containers:
        - name: c
          image: ${BUSYBOX}
          imagePullPolicy: IfNotPresent
          command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -v -p 8080 -h /www']
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: every, namespace: ${namespace}}
spec:
  selector: {app: every}
  ports: [{port: 80, targetPort: 8080}]
`;
}
