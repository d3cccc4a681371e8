import type Docker from "dockerode";
import { UserError } from "../../util/errors.js";
import type { ServiceInfo, ServiceSpec, ServiceStore } from "../types.js";
import { ignoreNotFound, isNotFound, messageOf } from "./engine-errors.js";
import { LABEL_CLUSTER, LABEL_SERVICE } from "./labels.js";
import { clusterOfNetwork, findClusterNetwork } from "./network.js";
import { stateOf } from "./node-container.js";

/** kubeyard's services as containers of the engine, each with a named volume and a restart policy. */
export class DockerServices implements ServiceStore {
  constructor(private readonly docker: Docker) {}

  async run(spec: ServiceSpec): Promise<void> {
    await this.remove(spec.name);
    await this.docker.createVolume({ Name: spec.volume.name, Labels: { [LABEL_SERVICE]: spec.name } });
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: { ...spec.labels, [LABEL_SERVICE]: spec.name },
      HostConfig: {
        Binds: [`${spec.volume.name}:${spec.volume.path}`],
        // Back after the engine or the host restarts, as the clusters that use it are.
        RestartPolicy: { Name: "unless-stopped" },
      },
    });
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
  }

  async remove(name: string, opts: { volume?: string } = {}): Promise<void> {
    const info = await this.inspect(name);
    if (info && info.Config.Labels?.[LABEL_SERVICE] !== name) {
      throw new UserError(`The container ${name} was not created by kubeyard, so kubeyard will not replace or remove it.`);
    }
    if (info) await ignoreNotFound(this.docker.getContainer(info.Id).remove({ force: true }));
    if (!opts.volume) return;
    const vol = await ignoreNotFound(this.docker.getVolume(opts.volume).inspect());
    if (vol?.Labels?.[LABEL_SERVICE] === name) await ignoreNotFound(this.docker.getVolume(opts.volume).remove());
  }

  async list(): Promise<ServiceInfo[]> {
    const found = await this.docker.listContainers({ all: true, filters: { label: [LABEL_SERVICE] } });
    const infos = await Promise.all(found.map((c) => this.inspect(c.Id)));
    return infos
      .filter((i): i is Docker.ContainerInspectInfo => !!i)
      .map((i) => ({
        name: i.Config.Labels[LABEL_SERVICE]!,
        state: stateOf(i.State.Status),
        labels: i.Config.Labels,
        clusters: Object.keys(i.NetworkSettings.Networks ?? {}).flatMap((n) => clusterOfNetwork(n) ?? []),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async join(name: string, cluster: string): Promise<void> {
    const net = await findClusterNetwork(this.docker, cluster);
    if (!net) throw new Error(`cluster "${cluster}" has no network to join`);
    try {
      await this.docker.getNetwork(net.Id).connect({ Container: name });
    } catch (err) {
      // Joined already: Docker answers 403 "endpoint ... already exists", Podman 500 "... already ...".
      if (/already/i.test(messageOf(err))) return;
      // Removed meanwhile (a `registry-mirror stop` while a cluster starts): nothing to join.
      if (isNotFound(err)) return;
      throw err;
    }
  }

  private async inspect(idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
    return ignoreNotFound(this.docker.getContainer(idOrName).inspect());
  }
}

/** Takes every kubeyard service off the cluster's network, so that the network can be removed. */
export async function leaveClusterNetwork(docker: Docker, networkId: string): Promise<void> {
  const net = (await docker.getNetwork(networkId).inspect()) as { Containers?: Record<string, { Name: string }> };
  const attached = Object.keys(net.Containers ?? {});
  await Promise.all(
    attached.map(async (id) => {
      const info = await ignoreNotFound(docker.getContainer(id).inspect());
      if (!info?.Config.Labels?.[LABEL_SERVICE] || info.Config.Labels[LABEL_CLUSTER]) return;
      await ignoreNotFound(docker.getNetwork(networkId).disconnect({ Container: id, Force: true }));
    }),
  );
}
