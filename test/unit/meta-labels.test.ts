// docker_sd meta labels, checked against the label sets Prometheus' discovery/moby/docker.go (as vendored
// by grafana/loki v3.6.10) builds for the same engine answers. The first containers and the networks are
// recorded from a real engine (dockerd 20.10, API 1.41; fields docktail does not read removed); the others
// are synthetic, for network shapes the test engine may not create (bridge with ports, host, several).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MetaLabelOptions, metaLabels, sanitizeLabelName } from '../../src/discovery/meta-labels.js';
import type { ContainerSummary, NetworkSummary } from '../../src/docker/client.js';

const NONE_ID = 'ada9089744fe5f5b4a3fc1c935b4386d4b059115f45285fdefce028cf6d6a818';
const HOST_ID = 'ad2cdaaec83877e3b3f61c2220c5fbbbcadbf63c1f131c4aad3f6a74542cf3ac';
const LABNET_ID = '6153b550b567c04ae41f0fb55ad4e9968c56f3bf25550a99dc8715a8f4a29dd5';

/** Recorded `GET /v1.41/networks` (IPAM, Options… removed). */
const RECORDED_NETWORKS: NetworkSummary[] = [
  { Name: 'none', Id: NONE_ID, Scope: 'local', Internal: false, Ingress: false, Labels: {} },
  { Name: 'host', Id: HOST_ID, Scope: 'local', Internal: false, Ingress: false, Labels: {} },
  {
    Name: 'labnet',
    Id: LABNET_ID,
    Scope: 'local',
    Internal: true,
    Ingress: false,
    Labels: { 'com.example.env': 'test', 'weird-key.x/y': '1' },
  },
];

/** A `none` endpoint as the engine reports it; `NetworkID` is empty until the container first started. */
function noneEndpoint(networkId: string, endpointId: string) {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    NetworkID: networkId,
    EndpointID: endpointId,
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: '',
    DriverOpts: null,
  };
}

/** Recorded `GET /v1.41/containers/json?all=1` entries (`docker run --network none …`). */
const RECORDED = {
  labels: {
    Id: '6d903e071197638828a27fe9547788027b5a5971e2819d9456ff22a24e85b769',
    Names: ['/fx-labels'],
    Image: 'docktail-test/busybox:1',
    Ports: [],
    Labels: { 'a-b/c.d': 'x y', app: 'web', 'com.docker.compose.project': 'shop', empty: '', émoji: '✓' },
    State: 'running',
    Status: 'Up 1 second',
    HostConfig: { NetworkMode: 'none' },
    NetworkSettings: {
      Networks: {
        none: noneEndpoint(NONE_ID, 'bdac311d84f78424dabccf670ca111cff68977cde4399603c1876d84d89cc221'),
      },
    },
  },
  exited: {
    Id: '0c2de39f3ac5259fa927d6eb142026853434fd238714184549aa6d1663311f18',
    Names: ['/fx-plain'],
    Image: 'docktail-test/busybox:1',
    Ports: [],
    Labels: {},
    State: 'exited',
    Status: 'Exited (0) 1 second ago',
    HostConfig: { NetworkMode: 'none' },
    NetworkSettings: { Networks: { none: noneEndpoint(NONE_ID, '') } },
  },
  created: {
    Id: 'e5174e407318560dd9c188396abded2daf383278f7806ecfd28d29d2fd15ec6b',
    Names: ['/fx-created'],
    Image: 'docktail-test/busybox:1',
    Ports: [],
    Labels: {},
    State: 'created',
    Status: 'Created',
    HostConfig: { NetworkMode: 'none' },
    NetworkSettings: { Networks: { none: noneEndpoint('', '') } },
  },
} satisfies Record<string, ContainerSummary>;

const NETWORKS = new Map(RECORDED_NETWORKS.map(n => [n.Id, n]));
const DEFAULTS: MetaLabelOptions = { port: 80, hostNetworkingHost: 'localhost' };

const NONE_LABELS = {
  __meta_docker_network_id: NONE_ID,
  __meta_docker_network_name: 'none',
  __meta_docker_network_scope: 'local',
  __meta_docker_network_internal: 'false',
  __meta_docker_network_ingress: 'false',
};
const LABNET_LABELS = {
  __meta_docker_network_id: LABNET_ID,
  __meta_docker_network_name: 'labnet',
  __meta_docker_network_scope: 'local',
  __meta_docker_network_internal: 'true',
  __meta_docker_network_ingress: 'false',
  __meta_docker_network_label_com_example_env: 'test',
  __meta_docker_network_label_weird_key_x_y: '1',
};

function container(overrides: Partial<ContainerSummary> & { Id: string }): ContainerSummary {
  return {
    Names: [`/${overrides.Id}`],
    State: 'running',
    Labels: {},
    Ports: [],
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Networks: {} },
    ...overrides,
  };
}

function common(id: string, mode: string, name = `/${id}`): Record<string, string> {
  return {
    __meta_docker_container_id: id,
    __meta_docker_container_name: name,
    __meta_docker_container_network_mode: mode,
  };
}

const bridgeEndpoint = { NetworkID: LABNET_ID, IPAddress: '172.17.0.2' };

interface Case {
  name: string;
  container: ContainerSummary;
  options?: Partial<MetaLabelOptions>;
  peers?: ContainerSummary[];
  /** Every target Prometheus emits for this container (none: it emits no target). */
  prometheus: Record<string, string>[];
  /** The one docktail emits. */
  expected: Record<string, string> | null;
}

const portsTargetsBase = {
  ...common('ports', 'bridge'),
  ...LABNET_LABELS,
  __meta_docker_network_ip: '172.17.0.2',
};

const CASES: Case[] = [
  (() => {
    const expected = {
      ...common(RECORDED.labels.Id, 'none', '/fx-labels'),
      __meta_docker_container_label_a_b_c_d: 'x y',
      __meta_docker_container_label_app: 'web',
      __meta_docker_container_label_com_docker_compose_project: 'shop',
      __meta_docker_container_label_empty: '',
      // Go's regexp replaces one rune with one `_`.
      __meta_docker_container_label__moji: '✓',
      ...NONE_LABELS,
      __meta_docker_network_ip: '',
      __address__: ':80',
    };
    return {
      name: 'recorded: labels, --network none',
      container: RECORDED.labels,
      prometheus: [expected],
      expected,
    };
  })(),
  (() => {
    const expected = {
      ...common(RECORDED.exited.Id, 'none', '/fx-plain'),
      ...NONE_LABELS,
      __meta_docker_network_ip: '',
      __address__: ':80',
    };
    return {
      name: 'recorded: exited, --network none',
      container: RECORDED.exited,
      prometheus: [expected],
      expected,
    };
  })(),
  (() => {
    // Never started: the endpoint has no NetworkID yet, so no network matches and only the IP is set.
    const expected = {
      ...common(RECORDED.created.Id, 'none', '/fx-created'),
      __meta_docker_network_ip: '',
      __address__: ':80',
    };
    return {
      name: 'recorded: created, endpoint without NetworkID',
      container: RECORDED.created,
      prometheus: [expected],
      expected,
    };
  })(),
  {
    name: 'bridge network with TCP, UDP, published and exposed ports: lowest TCP private port',
    container: container({
      Id: 'ports',
      Ports: [
        { IP: '0.0.0.0', PrivatePort: 8080, PublicPort: 32768, Type: 'tcp' },
        { PrivatePort: 53, Type: 'udp' },
        { IP: '::', PrivatePort: 8080, PublicPort: 32768, Type: 'tcp' },
        { PrivatePort: 443, Type: 'tcp' },
      ],
      NetworkSettings: { Networks: { labnet: bridgeEndpoint } },
    }),
    prometheus: [
      {
        ...portsTargetsBase,
        __meta_docker_port_private: '8080',
        __meta_docker_port_public: '32768',
        __meta_docker_port_public_ip: '0.0.0.0',
        __address__: '172.17.0.2:8080',
      },
      {
        ...portsTargetsBase,
        __meta_docker_port_private: '8080',
        __meta_docker_port_public: '32768',
        __meta_docker_port_public_ip: '::',
        __address__: '172.17.0.2:8080',
      },
      { ...portsTargetsBase, __meta_docker_port_private: '443', __address__: '172.17.0.2:443' },
    ],
    expected: { ...portsTargetsBase, __meta_docker_port_private: '443', __address__: '172.17.0.2:443' },
  },
  {
    name: 'published port on IPv4 and IPv6: the IPv4 binding',
    container: container({
      Id: 'pub',
      Ports: [
        { IP: '::', PrivatePort: 80, PublicPort: 8000, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8000, Type: 'tcp' },
      ],
      NetworkSettings: { Networks: { labnet: bridgeEndpoint } },
    }),
    prometheus: [
      {
        ...common('pub', 'bridge'),
        ...LABNET_LABELS,
        __meta_docker_network_ip: '172.17.0.2',
        __meta_docker_port_private: '80',
        __meta_docker_port_public: '8000',
        __meta_docker_port_public_ip: '::',
        __address__: '172.17.0.2:80',
      },
      {
        ...common('pub', 'bridge'),
        ...LABNET_LABELS,
        __meta_docker_network_ip: '172.17.0.2',
        __meta_docker_port_private: '80',
        __meta_docker_port_public: '8000',
        __meta_docker_port_public_ip: '0.0.0.0',
        __address__: '172.17.0.2:80',
      },
    ],
    expected: {
      ...common('pub', 'bridge'),
      ...LABNET_LABELS,
      __meta_docker_network_ip: '172.17.0.2',
      __meta_docker_port_private: '80',
      __meta_docker_port_public: '8000',
      __meta_docker_port_public_ip: '0.0.0.0',
      __address__: '172.17.0.2:80',
    },
  },
  (() => {
    const expected = {
      ...common('udp', 'bridge'),
      ...LABNET_LABELS,
      __meta_docker_network_ip: '172.17.0.2',
      __address__: '172.17.0.2:9100',
    };
    return {
      name: 'only UDP ports: the fallback port',
      container: container({
        Id: 'udp',
        Ports: [{ PrivatePort: 53, Type: 'udp' }],
        NetworkSettings: { Networks: { labnet: bridgeEndpoint } },
      }),
      options: { port: 9100 },
      prometheus: [expected],
      expected,
    };
  })(),
  (() => {
    const expected = {
      ...common('hostmode', 'host'),
      __meta_docker_network_id: HOST_ID,
      __meta_docker_network_name: 'host',
      __meta_docker_network_scope: 'local',
      __meta_docker_network_internal: 'false',
      __meta_docker_network_ingress: 'false',
      __meta_docker_network_ip: '',
      __address__: 'docker-host.example',
    };
    return {
      name: 'host network: host_networking_host',
      container: container({
        Id: 'hostmode',
        HostConfig: { NetworkMode: 'host' },
        NetworkSettings: { Networks: { host: { NetworkID: HOST_ID, IPAddress: '' } } },
      }),
      options: { hostNetworkingHost: 'docker-host.example' },
      prometheus: [expected],
      expected,
    };
  })(),
  (() => {
    const alpha = {
      ...common('multi', 'zeta'),
      __meta_docker_network_ip: '10.0.1.5',
      __address__: '10.0.1.5:80',
    };
    return {
      name: 'several networks: the first by name (match_first_network)',
      container: container({
        Id: 'multi',
        HostConfig: { NetworkMode: 'zeta' },
        NetworkSettings: {
          Networks: {
            zeta: { NetworkID: LABNET_ID, IPAddress: '172.17.0.9' },
            alpha: { NetworkID: 'not-listed', IPAddress: '10.0.1.5' },
            beta: null,
          },
        },
      }),
      prometheus: [alpha],
      expected: alpha,
    };
  })(),
  (() => {
    const expected = {
      ...common('v6', 'labnet'),
      ...LABNET_LABELS,
      __meta_docker_network_ip: 'fd00::2',
      __address__: '[fd00::2]:80',
    };
    return {
      name: 'IPv6 address: bracketed as net.JoinHostPort does',
      container: container({
        Id: 'v6',
        HostConfig: { NetworkMode: 'labnet' },
        NetworkSettings: { Networks: { labnet: { NetworkID: LABNET_ID, IPAddress: 'fd00::2' } } },
      }),
      prometheus: [expected],
      expected,
    };
  })(),
  (() => {
    const sidecar = container({
      Id: 'sidecar',
      HostConfig: { NetworkMode: 'container:app' },
      NetworkSettings: { Networks: {} },
    });
    const app = container({ Id: 'app', NetworkSettings: { Networks: { labnet: bridgeEndpoint } } });
    const expected = {
      ...common('sidecar', 'container:app'),
      ...LABNET_LABELS,
      __meta_docker_network_ip: '172.17.0.2',
      __address__: '172.17.0.2:80',
    };
    return {
      name: 'network_mode container:<id>: the networks of that container',
      container: sidecar,
      peers: [app, sidecar],
      prometheus: [expected],
      expected,
    };
  })(),
  {
    name: 'no network at all: still one target, container labels and no network labels',
    container: container({
      Id: 'nonet',
      Labels: { team: 'a' },
      HostConfig: { NetworkMode: 'container:gone' },
      NetworkSettings: { Networks: {} },
    }),
    prometheus: [],
    expected: {
      ...common('nonet', 'container:gone'),
      __meta_docker_container_label_team: 'a',
      __address__: ':80',
    },
  },
  {
    name: 'missing NetworkSettings and HostConfig',
    container: { Id: 'bare', Names: ['/bare'] },
    prometheus: [],
    expected: { ...common('bare', ''), __address__: ':80' },
  },
  {
    name: 'no name: not a target',
    container: { Id: 'nameless', Names: [] },
    prometheus: [],
    expected: null,
  },
];

describe('metaLabels', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const peers = c.peers ? new Map(c.peers.map(p => [p.Id, p])) : undefined;
      const got = metaLabels(c.container, NETWORKS, { ...DEFAULTS, ...c.options, containers: peers });
      assert.deepEqual(got, c.expected);
      // docktail's single target is one of Prometheus' targets whenever Prometheus has any.
      if (c.prometheus.length > 0) {
        assert.ok(
          c.prometheus.some(t => JSON.stringify(sorted(t)) === JSON.stringify(sorted(got ?? {}))),
          'the target is one Prometheus emits',
        );
      }
    });
  }

  it('is the same whatever the order of ports and networks in the answer', () => {
    const ports = [
      { IP: '0.0.0.0', PrivatePort: 9000, PublicPort: 1, Type: 'tcp' },
      { PrivatePort: 7000, Type: 'tcp' },
      { IP: '::', PrivatePort: 7000, PublicPort: 2, Type: 'tcp' },
    ];
    const a = container({
      Id: 'order',
      Ports: ports,
      NetworkSettings: { Networks: { b: bridgeEndpoint, a: { NetworkID: NONE_ID, IPAddress: '1.2.3.4' } } },
    });
    const b = container({
      Id: 'order',
      Ports: [...ports].reverse(),
      NetworkSettings: { Networks: { a: { NetworkID: NONE_ID, IPAddress: '1.2.3.4' }, b: bridgeEndpoint } },
    });
    const la = metaLabels(a, NETWORKS, DEFAULTS);
    assert.deepEqual(la, metaLabels(b, NETWORKS, DEFAULTS));
    assert.equal(la?.__meta_docker_port_private, '7000');
    assert.equal(la?.__meta_docker_port_public, undefined, 'the unpublished entry sorts first (empty IP)');
    assert.equal(la?.__address__, '1.2.3.4:7000');
  });

  it('resolves labels that sanitize to the same name the same way every time (the last by original name)', () => {
    const labels = metaLabels(
      container({ Id: 'dup', Labels: { 'a.b': 'dot', 'a-b': 'dash' } }),
      NETWORKS,
      DEFAULTS,
    );
    assert.equal(labels?.__meta_docker_container_label_a_b, 'dot');
    const reversed = metaLabels(
      container({ Id: 'dup', Labels: { 'a-b': 'dash', 'a.b': 'dot' } }),
      NETWORKS,
      DEFAULTS,
    );
    assert.deepEqual(labels, reversed);
  });
});

describe('sanitizeLabelName (Prometheus strutil.SanitizeLabelName)', () => {
  const table: Array<[string, string]> = [
    ['app', 'app'],
    ['com.docker.compose.project', 'com_docker_compose_project'],
    ['a-b/c.d', 'a_b_c_d'],
    ['with space', 'with_space'],
    ['émoji', '_moji'],
    ['日本', '__'],
    ['😀x', '_x'],
    ['9lives', '9lives'],
    ['', ''],
  ];
  for (const [input, output] of table) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(output)}`, () =>
      assert.equal(sanitizeLabelName(input), output));
  }
});

function sorted(labels: Record<string, string>): Array<[string, string]> {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
