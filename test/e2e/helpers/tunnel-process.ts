import { execa, type ResultPromise } from "execa";
import { readdirSync } from "node:fs";
import { KUBEYARD_CLI, type TestUser } from "./cli.js";
import { eventually } from "../../helpers/poll.js";

/** A `kubeyard tunnel` running in the background as the user, with its output collected line by line. */
export class TunnelProcess {
  readonly lines: string[] = [];
  readonly proc: ResultPromise<{ all: true; reject: false }>;

  constructor(user: TestUser, profile: string, args: string[] = []) {
    this.proc = execa("node", [KUBEYARD_CLI, "tunnel", "-p", profile, ...args], { env: user.env, all: true, reject: false, buffer: true });
    let rest = "";
    this.proc.all.on("data", (chunk: Buffer) => {
      const parts = (rest + String(chunk)).split("\n");
      rest = parts.pop() ?? "";
      this.lines.push(...parts);
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  output(): string {
    return this.lines.join("\n");
  }

  /** Waits for an output line matching `re`, and returns it. */
  async line(re: RegExp, timeoutMs = 60_000): Promise<string> {
    const found = () => {
      const line = this.lines.find((l) => re.test(l));
      if (line === undefined) throw new Error(`no such line yet\n--- output so far ---\n${this.output()}`);
      return line;
    };
    return eventually(`a tunnel output line matching ${re}`, found, { timeoutMs, intervalMs: 200 });
  }

  /** The number of file descriptors the tunnel process holds open. */
  openFds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** Sends a signal and waits for the process to end; returns its exit code. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | undefined> {
    this.proc.kill(signal);
    const r = await this.proc;
    return r.exitCode;
  }
}
