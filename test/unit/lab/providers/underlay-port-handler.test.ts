import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LinkInfo, RouteInfo } from "../../../../src/effects/links.ts";
import { diffInputs } from "../../../../src/lab/providers/handler.ts";
import {
  makeUnderlayPortHandler,
  type UnderlayPortEffects,
  type UnderlayPortInputs,
} from "../../../../src/lab/providers/underlay-port-handler.ts";
import { Calls, boom } from "./fakes.ts";

const port: UnderlayPortInputs = {
  netns: "lab-worker-1",
  ifname: "eth0",
  switchNetns: "lab-underlay",
  port: "worker-1",
  bridge: "br0",
  cidr: "192.168.19.166/24",
  mtu: 1500,
  routes: [{ to: "default" }],
};

/** What the fake kernel shows of the port: its namespaces, the link's flags, addresses and routes. */
interface Seen {
  namespaces: string[];
  flags: string[];
  cidrs: string[];
  routes: RouteInfo[];
}

function kernel(calls: Calls, seen: Seen): UnderlayPortEffects {
  const link = (): LinkInfo => ({
    ifname: "eth0",
    operstate: "UP",
    mtu: 1500,
    flags: seen.flags,
    addr_info: seen.cidrs.map((c) => ({
      family: "inet",
      local: c.split("/")[0]!,
      prefixlen: Number(c.split("/")[1]),
      scope: "global",
    })),
  });
  return {
    createVethPair: async (o) =>
      calls.note("veth", o.netns, o.ifname, o.peerNetns, o.peerIfname, o.peerBridge),
    addAddress: async (n, i, c) => calls.note("addr", n, i, c),
    deleteAddress: async (n, i, c) => calls.note("addr-del", n, i, c),
    addRoute: async (n, a) => calls.note("route", n, ...a),
    deleteRoute: async (n, a) => calls.note("route-del", n, ...a),
    deleteLink: async (n, i) => calls.note("link-del", n, i),
    linkExists: async (n) => seen.namespaces.includes(n),
    listLinks: async () => [link()],
    listRoutes: async () => seen.routes,
    setLinkUp: async (n, i) => calls.note("up", n, i),
    setMtu: async (n, i, m) => calls.note("mtu", n, i, m),
    netnsExists: async (n) => seen.namespaces.includes(n),
  };
}

const healthy = (): Seen => ({
  namespaces: ["lab-worker-1", "lab-underlay"],
  flags: ["BROADCAST", "UP"],
  cidrs: ["192.168.19.166/24"],
  routes: [{ dst: "default", dev: "eth0" }],
});

describe("the underlay port handler", () => {
  it("replaces on new wiring; address, routes and MTU change in place", () => {
    const h = makeUnderlayPortHandler(kernel(new Calls(), healthy()));
    assert.deepEqual(diffInputs(h.replaceOn, { ...port }, { ...port, port: "w1" }).replaces, ["port"]);
    const inPlace = { ...port, cidr: "192.168.19.170/24", mtu: 9000, routes: [] };
    assert.deepEqual(diffInputs(h.replaceOn, { ...port }, inPlace).replaces, []);
  });

  it("wires the veth, its address and routes; a failure midway removes the veth and rethrows", async () => {
    const calls = new Calls();
    const h = makeUnderlayPortHandler(kernel(calls, healthy()));
    assert.equal((await h.create(port)).id, "lab-worker-1/eth0");
    assert.deepEqual(calls.lines, [
      "veth lab-worker-1 eth0 lab-underlay worker-1 br0",
      "addr lab-worker-1 eth0 192.168.19.166/24",
      "route lab-worker-1 default dev eth0",
    ]);
    const failing = new Calls();
    const broken = makeUnderlayPortHandler({ ...kernel(failing, healthy()), addAddress: boom("ip addr") });
    await assert.rejects(broken.create(port), /ip addr failed/);
    assert.deepEqual(failing.lines, [
      "veth lab-worker-1 eth0 lab-underlay worker-1 br0",
      "link-del lab-worker-1 eth0",
    ]);
  });

  it("reads drift: a link set down, a route or address gone; a namespace gone reads as gone", async () => {
    const seen = healthy();
    const h = makeUnderlayPortHandler(kernel(new Calls(), seen));
    assert.deepEqual(await h.read("x", port), port);
    seen.flags = ["BROADCAST"];
    seen.routes = [];
    seen.cidrs = [];
    assert.deepEqual(await h.read("x", port), {
      ...port,
      cidr: "",
      routes: [],
      drift: ["eth0 in lab-worker-1 is down"],
    });
    seen.namespaces = ["lab-underlay"];
    assert.equal(await h.read("x", port), undefined);
  });

  it("repairs in place: the link up first, the address back, stale routes gone, MTU at both ends", async () => {
    const calls = new Calls();
    const h = makeUnderlayPortHandler(kernel(calls, healthy()));
    const olds = { ...port, cidr: "", routes: [{ to: "10.9.0.0/16", via: "192.168.19.1" }], drift: ["down"] };
    await h.update!("x", olds, { ...port, mtu: 9000 });
    assert.deepEqual(calls.lines, [
      "up lab-worker-1 eth0",
      "addr lab-worker-1 eth0 192.168.19.166/24",
      "route-del lab-worker-1 10.9.0.0/16 via 192.168.19.1 dev eth0",
      "route lab-worker-1 default dev eth0",
      "mtu lab-worker-1 eth0 9000",
      "mtu lab-underlay worker-1 9000",
    ]);
  });

  it("deletes what is left: a host namespace already gone is not an error", async () => {
    const calls = new Calls();
    const h = makeUnderlayPortHandler(kernel(calls, { ...healthy(), namespaces: ["lab-underlay"] }));
    await h.delete("x", port);
    assert.deepEqual(calls.lines, ["link-del lab-underlay worker-1"]);
  });
});
