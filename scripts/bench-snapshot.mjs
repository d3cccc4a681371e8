// The snapshot benchmark: `snapshot save`, `snapshot restore` and `start --from-snapshot` (a copy in a
// second profile) of a 1-node cluster holding 20 ConfigMaps and a 100 MiB volume (random bytes, so
// nothing compresses), and of a 3-node cluster with the same; each restore and copy is timed until the
// command returns and until the volume's pod answers, with the data it had when saved. Medians over
// the runs, written as JSON.
//
//   npm run bench -- --suite snapshot [--runs 5]
import { execa } from "execa";
import { mkdirSync, writeFileSync } from "node:fs";

const workload = (objects) =>
  [
    ...Array.from({ length: objects }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bench-${i}}\ndata: {n: "${i}"}\n`),
    "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n",
    [
      "apiVersion: apps/v1",
      "kind: Deployment",
      "metadata: {name: data}",
      "spec:",
      "  selector: {matchLabels: {app: data}}",
      "  template:",
      "    metadata: {labels: {app: data}}",
      "    spec:",
      "      terminationGracePeriodSeconds: 0",
      "      containers:",
      "      - name: c",
      "        image: docker.io/library/busybox:1.35.0",
      '        command: [sh, -c, "[ -f /data/blob ] || head -c 104857600 /dev/urandom > /data/blob; md5sum /data/blob > /data/sum; sleep 100000"]',
      "        volumeMounts: [{name: d, mountPath: /data}]",
      "      volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]",
    ].join("\n"),
  ].join("---\n");

export async function snapshotSuite({ cli, env, kubectlBin, runs, out, median, now, until }) {
  const results = [];
  for (const nodes of [1, 3]) {
    const p = `bench-snap-${nodes}-${Math.random().toString(36).slice(2, 7)}`;
    const copy = `${p}-copy`;
    // kubeyard and kubectl on a profile: the saved cluster's by default, the copy's when named.
    const ky = (args, profile = p) => execa("node", [cli, "-p", profile, ...args], { env });
    const k = (args, opts = {}, context = p) => execa(kubectlBin, ["--context", context, ...args], { env, reject: false, ...opts });
    const sum = async (context = p) => String((await k(["exec", "deploy/data", "--", "cat", "/data/sum"], {}, context)).stdout).trim();
    try {
      await ky(["start", "--nodes", String(nodes)]);
      await k(["apply", "-f", "-"], { input: workload(20) });
      await k(["rollout", "status", "deploy/data", "--timeout=300s"]);
      const saved = await until(async () => (await sum()).length > 0).then(() => sum());
      for (let i = 1; i <= runs; i++) {
        const s0 = now();
        await ky(["snapshot", "save", p]);
        const save = now() - s0;
        const listed = JSON.parse(String((await ky(["snapshot", "list", "-o", "json"])).stdout));
        const paused = listed.find((x) => x.name === p).pausedMs / 1000;
        const c0 = now();
        await ky(["start", "--from-snapshot", p], copy);
        const copyStart = now() - c0;
        const copyUntilVolumeAnswers = (await until(async () => (await sum(copy)) === saved)) - c0;
        await ky(["delete"], copy);
        await k(["delete", "configmap", "bench-0"]);
        const r0 = now();
        await ky(["snapshot", "restore", p]);
        const restore = now() - r0;
        const back = (await until(async () => (await sum()) === saved)) - r0;
        await ky(["snapshot", "rm", p]);
        results.push({ nodes, run: i, save, paused, restore, restoreUntilVolumeAnswers: back, copyStart, copyUntilVolumeAnswers });
        process.stdout.write(
          `${nodes} node${nodes === 1 ? "" : "s"}, run ${i}: save ${save.toFixed(1)} s (paused ${paused.toFixed(1)} s), restore ${restore.toFixed(1)} s, ` +
            `until the volume's pod answers ${back.toFixed(1)} s; copy ${copyStart.toFixed(1)} s, until its volume's pod answers ${copyUntilVolumeAnswers.toFixed(1)} s\n`,
        );
      }
    } finally {
      await ky(["snapshot", "rm", p]).catch(() => undefined);
      await ky(["delete"]).catch(() => undefined);
      await ky(["delete"], copy).catch(() => undefined);
    }
  }
  const medians = {};
  for (const nodes of [1, 3]) {
    const of = results.filter((r) => r.nodes === nodes);
    for (const phase of ["save", "paused", "restore", "restoreUntilVolumeAnswers", "copyStart", "copyUntilVolumeAnswers"])
      medians[`${nodes}-node ${phase}`] = median(of.map((r) => r[phase]));
  }
  process.stdout.write(`\nmedians over ${runs} runs (seconds)\n| phase | median |\n| --- | --- |\n`);
  for (const [phase, m] of Object.entries(medians)) process.stdout.write(`| ${phase} | ${m.toFixed(2)} |\n`);
  mkdirSync(out.slice(0, out.lastIndexOf("/")) || ".", { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), suite: "snapshot", objects: 20, volumeMiB: 100, runs: results, medians }, null, 2) +
      "\n",
  );
  process.stdout.write(`written to ${out}\n`);
}
