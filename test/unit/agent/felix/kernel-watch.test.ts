import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { kernelEventMatters } from "../../../../src/agent/felix/kernel-watch.ts";

// Lines as `ip -o monitor link address route` printed them in a scratch namespace (iproute2 6.x).
const WORKLOAD = [
  "3: cali0123456789a@if2: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default \\    link/ether de:24:e8:f6:fd:24 brd ff:ff:ff:ff:ff:ff",
  "Deleted 3: cali0123456789a@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff",
  "10.244.9.5 dev cali0123456789a scope link linkdown ",
];
/** A workload's /32 route removed (by hand, or with its interface): Felix puts such routes back. */
const WORKLOAD_ROUTE_GONE = [
  "Deleted 10.244.9.5 dev cali0123456789a scope link linkdown ",
  "Deleted 10.244.9.5 dev cali0123456789a scope link ",
];
const BIRD = [
  "blackhole 10.244.1.0/26 proto bird ",
  "Deleted blackhole 10.244.1.0/26 proto bird ",
  "10.244.2.0/26 via 192.168.19.11 dev eth0 proto bird ",
  "10.244.2.0/26 via 192.168.19.11 dev tunl0 proto bird onlink ",
];
const OURS = [
  "4: vxlan.calico: <BROADCAST,MULTICAST> mtu 65486 qdisc noop state DOWN group default \\    link/ether f2:a6:8e:0c:15:f1 brd ff:ff:ff:ff:ff:ff",
  "4: vxlan.calico    inet 10.244.1.0/32 scope global vxlan.calico\\       valid_lft forever preferred_lft forever",
  "Deleted 10.244.2.0/26 via 10.244.2.0 dev vxlan.calico proto 80 onlink ",
  "5: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1440 qdisc noqueue state UNKNOWN group default \\    link/ipip 0.0.0.0 brd 0.0.0.0",
  "Deleted 2: eth0    inet 192.168.19.10/24 scope global eth0\\       valid_lft forever preferred_lft forever",
  "Deleted default dev eth0 scope link ",
  "Deleted default via 10.99.1.1 dev eth0 ",
  "2: eth0@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 9a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff link-netns sw",
];

describe("which kernel changes wake the agent", () => {
  test("workload interfaces coming and going, and their /32 routes added, do not (the CNI plugin's)", () => {
    for (const l of WORKLOAD) assert.equal(kernelEventMatters(l), false, l);
  });
  test("a workload's /32 route deleted does (the agent puts it back)", () => {
    for (const l of WORKLOAD_ROUTE_GONE) assert.equal(kernelEventMatters(l), true, l);
  });
  test("BIRD's routes do not (BIRD's kernel scan puts back what is deleted)", () => {
    for (const l of BIRD) assert.equal(kernelEventMatters(l), false, l);
  });
  test("tunl0, vxlan.calico, their addresses, Felix's routes and the underlay do", () => {
    for (const l of OURS) assert.equal(kernelEventMatters(l), true, l);
  });
});
