import {
  addAddress,
  addRoute,
  createVethPair,
  deleteAddress,
  deleteLink,
  linkExists,
  listLinks,
  listRoutes,
  setLinkUp,
  setMtu,
} from "../../effects/links.ts";
import { hasUnderlayRoute } from "../../agent/felix/host.ts";
import { tryRun } from "../../effects/exec.ts";
import { netnsExists } from "../../effects/netns.ts";
import { underlayRouteArgs, type UnderlayRoute } from "../topology.ts";
import type { Handler } from "./handler.ts";

/** A host's underlay interface: a veth from the host namespace to a port of the switch bridge. */
export interface UnderlayPortInputs {
  netns: string;
  ifname: string;
  switchNetns: string;
  port: string;
  bridge: string;
  cidr: string;
  mtu: number;
  /** Routes out of this interface (flat: `default dev eth0`; routed: `default via <router>`). */
  routes: UnderlayRoute[];
}

/** What a refresh found wrong beyond the inputs it shows (the routes and address): the link set down. */
export interface UnderlayPortOutputs extends UnderlayPortInputs {
  drift?: string[];
}

async function addRoutes(i: UnderlayPortInputs): Promise<void> {
  for (const r of i.routes) await addRoute(i.netns, underlayRouteArgs(r, i.ifname));
}

export const underlayPortHandler: Handler<UnderlayPortInputs, UnderlayPortOutputs> = {
  replaceOn: ["netns", "ifname", "switchNetns", "port", "bridge"],
  async create(inputs) {
    try {
      await createVethPair({
        netns: inputs.netns,
        ifname: inputs.ifname,
        peerNetns: inputs.switchNetns,
        peerIfname: inputs.port,
        peerBridge: inputs.bridge,
        mtu: inputs.mtu,
      });
      await addAddress(inputs.netns, inputs.ifname, inputs.cidr);
      await addRoutes(inputs);
    } catch (e) {
      await deleteLink(inputs.netns, inputs.ifname).catch(() => undefined);
      throw e;
    }
    return { id: `${inputs.netns}/${inputs.ifname}`, outs: inputs };
  },
  async read(_id, props) {
    if (!(await netnsExists(props.netns)) || !(await linkExists(props.netns, props.ifname))) return undefined;
    const { drift: _old, ...rest } = props;
    const link = (await listLinks(props.netns)).find((l) => l.ifname === props.ifname);
    const cidrs = (link?.addr_info ?? [])
      .filter((a) => a.family === "inet")
      .map((a) => `${a.local}/${a.prefixlen}`);
    // The same facts the host's agent keeps: its address, and the plan's routes (the default route) as
    // far as the kernel still holds them. One missing differs from the inputs: the next `up` puts it back.
    const kernel = await listRoutes(props.netns, props.ifname);
    const routes = (props.routes ?? []).filter((r) => hasUnderlayRoute(kernel, r, props.ifname));
    const drift = link?.flags?.includes("UP") ? [] : [`${props.ifname} in ${props.netns} is down`];
    return {
      ...rest,
      cidr: cidrs.includes(props.cidr) ? props.cidr : (cidrs[0] ?? ""),
      routes,
      ...(drift.length > 0 ? { drift } : {}),
    };
  },
  async update(_id, olds, news) {
    // Set down by hand: up again first (the kernel refuses routes on a link that is down).
    if (olds.drift?.length) await setLinkUp(news.netns, news.ifname);
    if (olds.cidr !== news.cidr) {
      if (olds.cidr) await deleteAddress(news.netns, news.ifname, olds.cidr);
      await addAddress(news.netns, news.ifname, news.cidr);
    }
    const key = (r: UnderlayRoute) => JSON.stringify(underlayRouteArgs(r, news.ifname));
    const wanted = new Set((news.routes ?? []).map(key));
    // Routes no longer planned go; the planned ones are replaced (idempotent: a route still there stays).
    for (const r of olds.routes ?? [])
      if (!wanted.has(key(r)))
        await tryRun(["ip", "-n", news.netns, "route", "del", ...underlayRouteArgs(r, news.ifname)]);
    await addRoutes(news);
    if (olds.mtu !== news.mtu) {
      await setMtu(news.netns, news.ifname, news.mtu);
      await setMtu(news.switchNetns, news.port, news.mtu);
    }
    return news;
  },
  async delete(_id, props) {
    // Deleting one end of a veth deletes both.
    if (await netnsExists(props.netns)) await deleteLink(props.netns, props.ifname);
    if (await netnsExists(props.switchNetns)) await deleteLink(props.switchNetns, props.port);
  },
};
