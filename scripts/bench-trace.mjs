// Where a start's seconds go: kubeyard's own actions (KUBEYARD_TRACE) and each component's first
// log line and first milestone on the first control plane (svlogd's UTC stamps), and the CoreDNS
// and app pods' conditions, all as seconds since the start command was run.
import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";

/** The line of each component's log that says it is doing its job, not just running. */
const MILESTONES = {
  containerd: /containerd successfully booted/,
  etcd: /ready to serve client requests/,
  "kube-apiserver": /Serving securely on/,
  "kube-controller-manager": /successfully acquired lease/,
  "kube-scheduler": /successfully acquired lease/,
  kubelet: /Successfully registered node/,
};

/** The components the kubelet runs as static pods: their logs are the pods' (CRI format), not runit's. */
const STATIC_PODS = new Set(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]);

// svlogd -tt: "2026-12-05_15:40:01.12345 text"; a pod's log (CRI): "2026-12-05T15:40:01.123456789Z stderr F text"
const stampOf = (line) => {
  const m = /^(\d{4}-\d\d-\d\d)[_T](\d\d:\d\d:\d\d\.\d+)/.exec(line);
  return m ? Date.parse(`${m[1]}T${m[2].slice(0, 12)}Z`) : undefined;
};

/** The first run's log of a component: its static pod's container log, else its runit log. */
const logCommand = (node, c) =>
  STATIC_PODS.has(c) ? ["sh", "-c", `cat /var/log/pods/kube-system_${c}-${node}_*/${c}/0.log`] : ["cat", `/var/log/kubeyard/${c}/current`];

async function componentTimes(node, t0) {
  const out = {};
  for (const [c, milestone] of Object.entries(MILESTONES)) {
    const r = await execa("docker", ["exec", node, ...logCommand(node, c)], { reject: false });
    const lines = String(r.stdout).split("\n").filter(Boolean);
    const first = lines.length ? stampOf(lines[0]) : undefined;
    const hit = lines.find((l) => milestone.test(l));
    const reached = hit ? stampOf(hit) : undefined;
    out[c] = { firstLine: rel(first, t0), milestone: rel(reached, t0) };
  }
  return out;
}

async function podTimes(kubectl, t0) {
  const r = await kubectl(["get", "pods", "-A", "-o", "json"]);
  if (r.exitCode !== 0) return {};
  const out = {};
  for (const p of JSON.parse(r.stdout).items) {
    const name = p.metadata.labels?.["k8s-app"] ?? p.metadata.labels?.app ?? p.metadata.name;
    const at = (type) => rel(Date.parse(p.status.conditions?.find((c) => c.type === type)?.lastTransitionTime ?? ""), t0);
    out[name] = { created: rel(Date.parse(p.metadata.creationTimestamp), t0), scheduled: at("PodScheduled"), ready: at("Ready") };
  }
  return out;
}

const rel = (ms, t0) => (Number.isFinite(ms) ? Math.round((ms - t0) / 10) / 100 : undefined);

export async function phaseTrace({ traceFile, node, kubectl, t0 }) {
  const actions = existsSync(traceFile)
    ? readFileSync(traceFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .map((a) => ({ action: a.action, start: rel(a.start, t0), end: rel(a.end, t0) }))
    : [];
  return { actions, components: await componentTimes(node, t0), pods: await podTimes(kubectl, t0) };
}

/** One line per entry, in the order things happened. */
export function formatTrace(trace) {
  const rows = [];
  for (const a of trace.actions) rows.push([a.start, `kubeyard ${a.action}`, `${a.start}–${a.end} s`]);
  for (const [c, t] of Object.entries(trace.components)) {
    if (t.firstLine !== undefined) rows.push([t.firstLine, `${c} first line`, `${t.firstLine} s`]);
    if (t.milestone !== undefined) rows.push([t.milestone, `${c} ${MILESTONES[c].source}`, `${t.milestone} s`]);
  }
  for (const [p, t] of Object.entries(trace.pods)) {
    rows.push([t.created ?? 0, `pod ${p}`, `created ${t.created} s, scheduled ${t.scheduled} s, ready ${t.ready} s`]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  return rows.map(([, what, when]) => `  ${what.padEnd(58)} ${when}`).join("\n");
}
