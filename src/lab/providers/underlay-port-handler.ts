import {
  addAddress,
  addRoute,
  createVethPair,
  deleteAddress,
  deleteLink,
  linkExists,
  listLinks,
  setMtu,
} from "../../effects/links.ts";
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

async function addRoutes(i: UnderlayPortInputs): Promise<void> {
  for (const r of i.routes) await addRoute(i.netns, underlayRouteArgs(r, i.ifname));
}

export const underlayPortHandler: Handler<UnderlayPortInputs> = {
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
    const link = (await listLinks(props.netns)).find((l) => l.ifname === props.ifname);
    const cidrs = (link?.addr_info ?? [])
      .filter((a) => a.family === "inet")
      .map((a) => `${a.local}/${a.prefixlen}`);
    if (!cidrs.includes(props.cidr)) return { ...props, cidr: cidrs[0] ?? "" };
    return props;
  },
  async update(_id, olds, news) {
    if (olds.cidr !== news.cidr) {
      if (olds.cidr) await deleteAddress(news.netns, news.ifname, olds.cidr);
      await addAddress(news.netns, news.ifname, news.cidr);
    }
    if (olds.cidr !== news.cidr || JSON.stringify(olds.routes) !== JSON.stringify(news.routes)) {
      for (const r of olds.routes ?? [])
        await tryRun(["ip", "-n", news.netns, "route", "del", ...underlayRouteArgs(r, news.ifname)]);
      await addRoutes(news);
    }
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
