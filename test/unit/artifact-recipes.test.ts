import { describe, expect, it } from "vitest";
import { ARTIFACT_NAMES, artifactVersion, recipeFor } from "../../src/artifacts/recipes.js";
import { wrapperFiles } from "../../src/artifacts/source-build.js";
import { SUPPORTED } from "../../src/versions/versions.js";

const UPSTREAM_GO_MOD = "module k8s.io/kubernetes\n\ngo 1.25.0\n\nrequire (\n\tk8s.io/api v0.0.0\n\tk8s.io/client-go v0.0.0\n)\n";

describe("artifact recipes", () => {
  it("every artifact of every supported version has a recipe at the version it is cached under", () => {
    for (const v of SUPPORTED) {
      for (const name of ARTIFACT_NAMES) {
        const recipe = recipeFor(name, v);
        expect(recipe.module, name).toMatch(/^[a-z0-9.-]+\.[a-z]+\//);
        if (recipe.kind === "c" || name === "agnhost-all") continue;
        // A program of kubeyard's own is cached under the upstream version and a digest of its main.
        const escaped = recipe.version.replace(/\./g, "\\.");
        expect(`v${artifactVersion(name, v)}`, name).toMatch(new RegExp(`^${escaped}(-[0-9a-f]{12})?$`));
      }
    }
  });

  it("a wrapper's go.mod pins upstream and its staging modules, and its mains come from their Go files", async () => {
    const v = SUPPORTED[0]!;
    const etcd = recipeFor("etcd", v);
    if (etcd.kind !== "wrapper") throw new Error("etcd is built as a wrapper");
    const files = await wrapperFiles(etcd, UPSTREAM_GO_MOD);
    expect(Object.keys(files).sort()).toEqual(["etcd/main.go", "go.mod"]);
    expect(files["go.mod"]).toContain(`\tgo.etcd.io/etcd/server/v3 v${v.etcd}\n\tgo.etcd.io/etcd/etcdctl/v3 v${v.etcd}\n`);
    expect(files["etcd/main.go"]).toMatch(/^package main\n[\s\S]*etcdmain\.Main\(os\.Args\)/);

    const agnhost = recipeFor("agnhost-all", v);
    if (agnhost.kind !== "wrapper") throw new Error("agnhost is built as a wrapper");
    const agn = await wrapperFiles(agnhost, UPSTREAM_GO_MOD);
    expect(agn["go.mod"]).toContain("replace (\n\tk8s.io/api => k8s.io/api v0.37.1\n\tk8s.io/client-go => k8s.io/client-go v0.37.1\n)\n");
    // Upstream's own main, every command of it: the wrapper adds no main of its own.
    expect(Object.keys(agn)).toEqual(["go.mod"]);
    expect(agnhost.builds.flatMap((b) => b.packages)).toEqual(["k8s.io/kubernetes/test/images/agnhost"]);
    expect(agnhost.builds[0]!.ldflags).toContain("-X main.Version=2.66.1");
  });

  it("CRI-O's image loader is a main of its own against the CRI-O release, so it shares CRI-O's store libraries", async () => {
    const v = SUPPORTED[0]!;
    const loader = recipeFor("crio-image-load", v);
    if (loader.kind !== "wrapper") throw new Error("crio-image-load is built as a wrapper");
    const files = await wrapperFiles(loader, "module github.com/cri-o/cri-o\n\ngo 1.26.3\n");
    expect(Object.keys(files).sort()).toEqual(["crio-image-load/main.go", "go.mod"]);
    expect(files["go.mod"]).toContain(`\tgithub.com/cri-o/cri-o v${v.crio}\n`);
    expect(files["crio-image-load/main.go"]).toMatch(/^package main\n[\s\S]*reexec\.Init\(\)[\s\S]*copy\.Image\(/m);
    expect(loader.builds.flatMap((b) => b.packages)).toEqual(["./crio-image-load"]);
  });
});
