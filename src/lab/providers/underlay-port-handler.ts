import * as links from "../../effects/links.ts";
import { netnsExists } from "../../effects/netns.ts";
import { hasUnderlayRoute } from "../../agent/felix/host.ts";
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

/** The link effects a port needs (effects/links.ts, on the host its namespace is on; a unit test records them). */
export type UnderlayPortEffects = Pick<
  typeof links,
  | "createVethPair"
  | "addAddress"
  | "deleteAddress"
  | "addRoute"
  | "deleteRoute"
  | "deleteLink"
  | "linkExists"
  | "listLinks"
  | "listRoutes"
  | "setLinkUp"
  | "setMtu"
> & { netnsExists: (netns: string) => Promise<boolean> };

export function makeUnderlayPortHandler(
  fx: UnderlayPortEffects,
): Handler<UnderlayPortInputs, UnderlayPortOutputs> {
  async function addRoutes(i: UnderlayPortInputs): Promise<void> {
    for (const r of i.routes) await fx.addRoute(i.netns, underlayRouteArgs(r, i.ifname));
  }
  return {
    replaceOn: ["netns", "ifname", "switchNetns", "port", "bridge"],
    async create(inputs) {
      try {
        await fx.createVethPair({
          netns: inputs.netns,
          ifname: inputs.ifname,
          peerNetns: inputs.switchNetns,
          peerIfname: inputs.port,
          peerBridge: inputs.bridge,
          mtu: inputs.mtu,
        });
        await fx.addAddress(inputs.netns, inputs.ifname, inputs.cidr);
        await addRoutes(inputs);
      } catch (e) {
        await fx.deleteLink(inputs.netns, inputs.ifname).catch(() => undefined);
        throw e;
      }
      return { id: `${inputs.netns}/${inputs.ifname}`, outs: inputs };
    },
    async read(_id, props) {
      if (!(await fx.netnsExists(props.netns)) || !(await fx.linkExists(props.netns, props.ifname)))
        return undefined;
      const { drift: _old, ...rest } = props;
      const link = (await fx.listLinks(props.netns)).find((l) => l.ifname === props.ifname);
      const cidrs = (link?.addr_info ?? [])
        .filter((a) => a.family === "inet")
        .map((a) => `${a.local}/${a.prefixlen}`);
      // The same facts the host's agent keeps: its address, and the plan's routes (the default route) as
      // far as the kernel still holds them. One missing differs from the inputs: the next `up` puts it back.
      const kernel = await fx.listRoutes(props.netns, props.ifname);
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
      if (olds.drift?.length) await fx.setLinkUp(news.netns, news.ifname);
      if (olds.cidr !== news.cidr) {
        if (olds.cidr) await fx.deleteAddress(news.netns, news.ifname, olds.cidr);
        await fx.addAddress(news.netns, news.ifname, news.cidr);
      }
      const key = (r: UnderlayRoute) => JSON.stringify(underlayRouteArgs(r, news.ifname));
      const wanted = new Set((news.routes ?? []).map(key));
      // Routes no longer planned go; the planned ones are replaced (idempotent: a route still there stays).
      for (const r of olds.routes ?? [])
        if (!wanted.has(key(r))) await fx.deleteRoute(news.netns, underlayRouteArgs(r, news.ifname));
      await addRoutes(news);
      if (olds.mtu !== news.mtu) {
        await fx.setMtu(news.netns, news.ifname, news.mtu);
        await fx.setMtu(news.switchNetns, news.port, news.mtu);
      }
      return news;
    },
    async delete(_id, props) {
      // Deleting one end of a veth deletes both.
      if (await fx.netnsExists(props.netns)) await fx.deleteLink(props.netns, props.ifname);
      if (await fx.netnsExists(props.switchNetns)) await fx.deleteLink(props.switchNetns, props.port);
    },
  };
}

export const underlayPortHandler = makeUnderlayPortHandler({ ...links, netnsExists });
