import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import prettier from "eslint-config-prettier";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

const root = import.meta.dirname;
const at = (path) => `${root}/${path}`;

// The layers at the bottom: plain data and pure functions that everything above builds on. They import
// one another and nothing else of src/, so what is built on them (cluster, tunnel, addons, drivers, kube,
// the rest of artifacts, and any folder added later) can change without touching them.
const bottomLayers = ["src/util/**", "src/versions/**", "src/config/**", "src/pki/**", "src/components/**"].map(at);
// Above them: the engine, the API, binaries and images, what runs inside a node, the cluster record. They
// serve the features (create, day2, addons, tunnel) and never import them; the features never import
// the service layer (src/ops) that composes them.
const middleLayers = ["src/drivers/**", "src/kube/**", "src/kubeconfig/**", "src/artifacts/**", "src/node/**", "src/cluster/**"].map(at);
const features = ["src/create/**", "src/day2/**", "src/addons/**", "src/tunnel/**", "src/mirror/**", "src/snapshot/**"].map(at);

// Paths are absolute (basePath "/") so that a package is recognised wherever node_modules really lives:
// the resolver follows symlinks, and a node_modules linked from another checkout is outside this one.
const boundaries = {
  "import-x/no-restricted-paths": [
    "error",
    {
      basePath: "/",
      zones: [
        {
          target: ["cmd/**", "src/!(drivers)/**", "src/*"].map(at),
          from: ["/**/node_modules/dockerode/**", "/**/node_modules/@types/dockerode/**", at("src/drivers/docker/**")],
          message: "Only src/drivers/ knows the engine; use the Driver of src/drivers/index.ts (types in src/drivers/types.ts).",
        },
        {
          target: at("src/**"),
          from: at("cmd/**"),
          message: "src/ does not depend on the command line; move what is shared into src/.",
        },
        {
          target: bottomLayers,
          from: at("src/**"),
          except: bottomLayers,
          message: "The bottom layers (util, versions, config, pki, components) import only one another.",
        },
        {
          target: middleLayers,
          from: [...features, at("src/ops/**")],
          message:
            "drivers, kube, kubeconfig, artifacts, node and cluster serve the features; they do not import create, day2, addons, tunnel, mirror, snapshot or ops.",
        },
        {
          target: features,
          from: at("src/ops/**"),
          message: "src/ops composes the features; the features do not import it.",
        },
      ],
    },
  ],
};

// typescript-eslint's recommended rules without type information: the type-checked set takes about four
// times as long (some 30 s of CPU against 8 s), and tsc already checks the types.
export default defineConfig(
  { ignores: ["dist/", "node_modules/", ".bench/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    files: ["src/**/*.ts", "cmd/**/*.ts"],
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createTypeScriptImportResolver({ project: at("tsconfig.json") })] },
    rules: boundaries,
  },
  {
    // Tests dig into parsed YAML and JSON whose shape is what they assert; typing each document would
    // only restate the assertions.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  prettier,
);
