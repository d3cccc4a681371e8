/**
 * How each binary artifact is built from its upstream Go module. Two shapes:
 *  - `module`: build inside the module's own source (from the module cache), so its go.mod, go.sum
 *    and replace directives apply exactly as upstream builds it;
 *  - `wrapper`: a generated main module that requires upstream at the release tag. Kubernetes and
 *    etcd need this: their repos' replace directives point into directories the module zip lacks.
 */
export interface GoBuild {
  packages: string[];
  ldflags: string[];
  tags?: string[];
  cgo?: boolean;
  /** Extra linker flags for a static cgo binary. */
  extldflags?: string;
}

export interface ModuleRecipe {
  kind: "module";
  module: string;
  version: string;
  /**
   * The module zip's go.sum hash ("h1:..."), for a module the checksum database does not list: go
   * downloads it without asking the database and kubeyard checks this hash instead.
   */
  sum?: string;
  builds: GoBuild[];
}

export interface WrapperRecipe {
  kind: "wrapper";
  module: string;
  version: string;
  /** go.mod requirements of the wrapper, besides `module@version`. */
  requires?: Record<string, string>;
  /** Upstream staging modules to pin: every `k8s.io/x v0.0.0` requirement becomes `k8s.io/x <stagingVersion>`. */
  stagingVersion?: string;
  /**
   * Small main packages the wrapper itself contains: dir -> the file under images/go-mains/ that is
   * its main.go.
   */
  mains?: Record<string, string>;
  builds: GoBuild[];
}

/** A C program compiled from files in an upstream module (the pause container, CRI-O's pinns). */
export interface CRecipe {
  kind: "c";
  module: string;
  version: string;
  /** Its source files, paths inside the module. */
  files: string[];
  output: string;
  defines: Record<string, string>;
}

/** Data files taken as they are from a folder of an upstream module (CRDs, say): nothing is compiled. */
export interface FilesRecipe {
  kind: "files";
  module: string;
  version: string;
  /** The folder inside the module. */
  dir: string;
  /** Which of its files are taken. */
  match: RegExp;
}

export type Recipe = ModuleRecipe | WrapperRecipe | CRecipe | FilesRecipe;
