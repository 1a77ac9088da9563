// Backend netns (the default): a lab host is a network namespace of this kernel, wired to the switch by a
// veth whose peer is a port of the underlay bridge. Pure.
import type { HostBackend } from "../types.ts";

/** How long the verification waits for a namespace lab to converge. */
const VERIFY_DEADLINE_MS = 10_000;

export const netnsBackend: HostBackend<"netns"> = {
  name: "netns",
  limits: { verifyDeadlineMs: VERIFY_DEADLINE_MS },
  thisKernel: true,
  machine: () => ({ kind: "netns" }),
  captureAt: (switchNetns, host) => ({ netns: switchNetns, ifname: host.bridge }),
};
