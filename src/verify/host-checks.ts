// A host's routes and devices against Calico's rules (calico-rules.ts): the checks, from what the kernel
// showed. Pure: checks/host-state.ts reads `ip route`/`ip link` and hands the text here; tests hand it perturbed tables.
import {
  IPIP_DEVICE,
  VXLAN_DEVICE,
  routeDestination,
  unexplainedRoutes,
  type DatastoreFacts,
  type HostExpectation,
} from "./calico-rules.ts";
import { check, skippedCheck, type CheckResult } from "./checks/result.ts";

/** Whether a route line needs the kernel's ipip module (a route through tunl0). */
export function needsIpip(routeLine: string): boolean {
  return / dev tunl0( |$)/.test(routeLine);
}

export function missingRoutes(expected: readonly string[], actual: readonly string[]): string[] {
  const have = new Set(actual);
  return expected.filter((e) => !have.has(e));
}

export interface RouteVerdict {
  /** The lines that had to be there (those this kernel can show). */
  wanted: string[];
  /** Lines through tunl0 that cannot be checked (no ipip here), with their destinations. */
  unreachable: string[];
  missing: string[];
  unexpected: string[];
}

export function judgeRoutes(
  facts: DatastoreFacts,
  want: HostExpectation,
  actual: readonly string[],
  ipipSkip: string | undefined,
): RouteVerdict {
  const all = want.routes.map((r) => r.line);
  const wanted = ipipSkip ? all.filter((r) => !needsIpip(r)) : all;
  const unreachable = all.filter((r) => !wanted.includes(r));
  const tolerated = new Set(unreachable.map(routeDestination));
  const expected = want.routes.filter((r) => wanted.includes(r.line));
  return {
    wanted,
    unreachable,
    missing: missingRoutes(wanted, actual),
    unexpected: unexplainedRoutes(facts, expected, actual, tolerated),
  };
}

export function routeChecks(
  host: string,
  v: RouteVerdict,
  ipipSkip: string | undefined,
): CheckResult<"routes">[] {
  const ok = v.missing.length === 0 && v.unexpected.length === 0;
  const seen = ok
    ? `all ${v.wanted.length} present, none unexplained`
    : [
        v.missing.length > 0 ? `missing: ${v.missing.join("; ")}` : "",
        v.unexpected.length > 0
          ? `unexpected (no datastore fact explains them): ${v.unexpected.join("; ")}`
          : "",
      ]
        .filter(Boolean)
        .join("; ");
  const out = [
    check(
      "routes",
      `routes on ${host}`,
      ok,
      `${v.wanted.join("; ") || "no blocks yet"}; and no other route into a pool`,
      seen,
    ),
  ];
  if (v.unreachable.length > 0)
    out.push(skippedCheck("routes", `routes through tunl0 on ${host}`, v.unreachable.join("; "), ipipSkip!));
  return out;
}

/** A link as `ip -d -j addr show` prints it (the fields read here). */
export interface SeenLink {
  ifname: string;
  operstate: string;
  mtu: number;
  addr_info?: { family: string; local: string }[];
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number } };
}

export function deviceChecks(
  host: string,
  want: HostExpectation,
  links: readonly SeenLink[],
  ipipSkip: string | undefined,
): CheckResult<"devices">[] {
  const out: CheckResult<"devices">[] = [];
  const tunl = links.find((l) => l.ifname === IPIP_DEVICE);
  const tunlAddr = tunl?.addr_info?.find((a) => a.family === "inet");
  if (want.tunl0) {
    const wantText = `tunl0 up, ${want.tunl0.address}/32, mtu ${want.tunl0.mtu}`;
    if (ipipSkip) out.push(skippedCheck("devices", `tunl0 on ${host}`, wantText, ipipSkip));
    else {
      const ok =
        tunl !== undefined &&
        tunl.operstate !== "DOWN" &&
        tunl.mtu === want.tunl0.mtu &&
        tunlAddr?.local === want.tunl0.address;
      out.push(
        check(
          "devices",
          `tunl0 on ${host}`,
          ok,
          wantText,
          tunl ? `tunl0 ${tunl.operstate}, ${tunlAddr?.local ?? "no address"}, mtu ${tunl.mtu}` : "no tunl0",
        ),
      );
    }
  } else {
    const stale = tunl && (tunl.operstate !== "DOWN" || tunlAddr);
    out.push(
      check(
        "devices",
        `no tunl0 on ${host}`,
        !stale,
        "no tunl0 in use (absent, or down without an address)",
        tunl ? `tunl0 ${tunl.operstate}${tunlAddr ? `, ${tunlAddr.local}` : ""}` : "no tunl0",
      ),
    );
  }
  const vx = links.find((l) => l.ifname === VXLAN_DEVICE);
  const vxAddr = vx?.addr_info?.find((a) => a.family === "inet")?.local;
  if (want.vxlan) {
    const data = vx?.linkinfo?.info_data;
    const ok =
      vx !== undefined &&
      vxAddr === want.vxlan.address &&
      vx.mtu === want.vxlan.mtu &&
      (data?.id === undefined || data.id === want.vxlan.vni) &&
      (data?.port === undefined || data.port === want.vxlan.port);
    out.push(
      check(
        "devices",
        `vxlan.calico on ${host}`,
        ok,
        `vxlan.calico ${want.vxlan.address}, mtu ${want.vxlan.mtu}, VNI ${want.vxlan.vni}, port ${want.vxlan.port}`,
        vx
          ? `vxlan.calico ${vxAddr ?? "no address"}, mtu ${vx.mtu}, VNI ${data?.id ?? "?"}, port ${data?.port ?? "?"}`
          : "no vxlan.calico",
      ),
    );
  } else if (vx && vxAddr) {
    out.push(
      check(
        "devices",
        `no vxlan.calico on ${host}`,
        false,
        "no vxlan.calico in use (no VXLAN pool selects the node)",
        `vxlan.calico ${vx.operstate}, ${vxAddr}`,
      ),
    );
  }
  return out;
}
