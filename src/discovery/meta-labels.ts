//! Promtail's docker_sd meta labels for one container, as Prometheus' discovery/moby/docker.go builds them
//! (the version vendored by grafana/loki v3.6: match_first_network on, `container:` network modes resolved).
//!
//! Prometheus emits one target per network × TCP port; docktail follows each container once, so this
//! picks ONE of them, deterministically:
//! - the network: with several, the first by name (what Prometheus' default `match_first_network` keeps);
//! - the port: the TCP port with the lowest private port, ties broken by host IP then public port
//!   (Prometheus uses the engine's order, which comes from a Go map and so varies between lists);
//!   no TCP port → the fallback target with `port` (or `host_networking_host` in host mode).
//! Unlike Prometheus, a container with no network at all still gets a target: the container labels and
//! `__address__`, no network or port labels. `__meta_docker_container_log_stream` is the caller's to add.

import type { ContainerPort, ContainerSummary, EndpointSettings, NetworkSummary } from '../docker/client.js';

export const META = '__meta_docker_';
const CONTAINER_LABEL = `${META}container_label_`;
const NETWORK_LABEL = `${META}network_label_`;

export interface MetaLabelOptions {
  /** docker_sd `port`: the address port when the container has no TCP port. @default 80 */
  port: number;
  /** docker_sd `host_networking_host`: the address of containers in host network mode. @default localhost */
  hostNetworkingHost: string;
  /** Other containers of the same list, to resolve `container:<id>` network modes as Prometheus does. */
  containers?: ReadonlyMap<string, ContainerSummary>;
}

const INVALID_LABEL_CHAR = /[^a-zA-Z0-9_]/gu;

/** Prometheus strutil.SanitizeLabelName: every character (code point) outside [a-zA-Z0-9_] becomes `_`. */
export function sanitizeLabelName(name: string): string {
  return name.replace(INVALID_LABEL_CHAR, '_');
}

/** Go's net.JoinHostPort: brackets around a host that contains a colon (IPv6). */
function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Adds `labels` under `prefix`, in sorted order so that two names that sanitize alike resolve the same way every time. */
function addSanitized(
  out: Record<string, string>,
  prefix: string,
  labels: Record<string, string> | null | undefined,
): void {
  if (!labels) return;
  for (const key of Object.keys(labels).sort()) out[prefix + sanitizeLabelName(key)] = labels[key] ?? '';
}

const networkCache = new WeakMap<NetworkSummary, Readonly<Record<string, string>>>();

/** The `__meta_docker_network_*` labels of one network (Prometheus' getNetworksLabels). */
export function networkLabels(network: NetworkSummary): Readonly<Record<string, string>> {
  let labels = networkCache.get(network);
  if (labels) return labels;
  const out: Record<string, string> = {
    [`${META}network_id`]: network.Id,
    [`${META}network_name`]: network.Name,
    [`${META}network_scope`]: network.Scope ?? '',
    [`${META}network_internal`]: String(network.Internal === true),
    [`${META}network_ingress`]: String(network.Ingress === true),
  };
  addSanitized(out, NETWORK_LABEL, network.Labels);
  labels = Object.freeze(out);
  networkCache.set(network, labels);
  return labels;
}

/** The container's endpoints; for `container:<id>` with none of its own, those of the container it shares. */
function endpointsOf(c: ContainerSummary, containers: ReadonlyMap<string, ContainerSummary> | undefined) {
  let networks = c.NetworkSettings?.Networks ?? {};
  let mode = c.HostConfig?.NetworkMode ?? '';
  // Bounded: a chain of `container:` modes cannot be longer than the number of containers.
  for (
    let hops = 0;
    Object.keys(networks).length === 0 && mode.startsWith('container:') && hops <= (containers?.size ?? 0);
    hops++
  ) {
    const peer = containers?.get(mode.slice('container:'.length));
    if (!peer) break;
    networks = peer.NetworkSettings?.Networks ?? {};
    mode = peer.HostConfig?.NetworkMode ?? '';
  }
  return networks;
}

/** The first network by name, skipping null entries; undefined when there is none. */
function firstNetwork(networks: Record<string, EndpointSettings | null>): EndpointSettings | undefined {
  let best: string | undefined;
  for (const [name, endpoint] of Object.entries(networks)) {
    if (endpoint && (best === undefined || name < best)) best = name;
  }
  return best === undefined ? undefined : (networks[best] ?? undefined);
}

/** The TCP port with the lowest private port (then host IP, then public port). */
function firstTcpPort(ports: readonly ContainerPort[] | null | undefined): ContainerPort | undefined {
  let best: ContainerPort | undefined;
  for (const p of ports ?? []) {
    if (p.Type !== 'tcp') continue;
    if (best === undefined || comparePorts(p, best) < 0) best = p;
  }
  return best;
}

function comparePorts(a: ContainerPort, b: ContainerPort): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  const ipA = a.IP ?? '';
  const ipB = b.IP ?? '';
  if (ipA !== ipB) return ipA < ipB ? -1 : 1;
  return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
}

/**
 * The meta labels of a container's single target, or null for a container without a name (Prometheus
 * skips those). `networks` maps network ids to the engine's networks (`GET /networks`).
 */
export function metaLabels(
  c: ContainerSummary,
  networks: ReadonlyMap<string, NetworkSummary>,
  options: MetaLabelOptions,
): Record<string, string> | null {
  const name = c.Names?.[0];
  if (name === undefined) return null;
  const mode = c.HostConfig?.NetworkMode ?? '';
  const labels: Record<string, string> = {
    [`${META}container_id`]: c.Id,
    [`${META}container_name`]: name,
    [`${META}container_network_mode`]: mode,
  };
  addSanitized(labels, CONTAINER_LABEL, c.Labels);

  const endpoint = firstNetwork(endpointsOf(c, options.containers));
  if (endpoint === undefined) {
    labels.__address__ = mode === 'host' ? options.hostNetworkingHost : joinHostPort('', options.port);
    return labels;
  }
  const ip = endpoint.IPAddress ?? '';
  labels[`${META}network_ip`] = ip;
  const network = endpoint.NetworkID ? networks.get(endpoint.NetworkID) : undefined;
  if (network) Object.assign(labels, networkLabels(network));

  const port = firstTcpPort(c.Ports);
  if (port) {
    labels[`${META}port_private`] = String(port.PrivatePort);
    if ((port.PublicPort ?? 0) > 0) {
      labels[`${META}port_public`] = String(port.PublicPort);
      labels[`${META}port_public_ip`] = port.IP ?? '';
    }
    labels.__address__ = joinHostPort(ip, port.PrivatePort);
  } else {
    // Host-mode containers have no ports, so they always end up here (as in Prometheus).
    labels.__address__ = mode === 'host' ? options.hostNetworkingHost : joinHostPort(ip, options.port);
  }
  return labels;
}
