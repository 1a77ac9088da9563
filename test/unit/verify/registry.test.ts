// The registry of checks is the one list: the categories, their titles, the Markdown's sections and the CLI
// summary's order come from it. These pin what the reports have always shown.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CATEGORIES, MARKDOWN_SECTIONS, type Category } from "../../../src/verify/checks/index.ts";
import { check } from "../../../src/verify/checks/result.ts";
import { defineCheck } from "../../../src/verify/checks/spec.ts";

/** Every category, once: tsc fails here when the registry gains or loses one. */
const ALL: Record<Category, true> = {
  underlay: true,
  kubernetes: true,
  daemons: true,
  routes: true,
  devices: true,
  bgp: true,
  "pod-pod": true,
  "node-pod": true,
  tcp: true,
  nat: true,
  outside: true,
  capture: true,
};

describe("the registry of checks", () => {
  it("lists each category once, in the order the checks run and the CLI summary counts them", () => {
    assert.deepEqual(
      CATEGORIES.map((c) => c.category),
      [
        "underlay",
        "kubernetes",
        "daemons",
        "routes",
        "devices",
        "bgp",
        "pod-pod",
        "node-pod",
        "tcp",
        "nat",
        "outside",
        "capture",
      ],
    );
    assert.deepEqual(CATEGORIES.map((c) => c.category).sort(), Object.keys(ALL).sort());
  });

  it("orders the Markdown's sections as the report always has, each with its title", () => {
    assert.deepEqual(
      MARKDOWN_SECTIONS.map((c) => `${c.category}: ${c.title}`),
      [
        "underlay: Underlay: host to host",
        "kubernetes: Kubernetes: nodes, calico-node DaemonSet, pods",
        "daemons: Daemons: etcd, calico-node, BIRD",
        "pod-pod: Pod to pod",
        "node-pod: Node to pod",
        "tcp: TCP (HTTP to the echo server)",
        "nat: natOutgoing",
        "outside: Outside router (BGP peer)",
        "routes: Routes (from the datastore)",
        "devices: Devices",
        "capture: Capture on the underlay",
        "bgp: BGP sessions",
      ],
    );
    const orders = CATEGORIES.map((c) => c.markdownOrder);
    assert.equal(new Set(orders).size, orders.length, "no two sections share a place");
  });

  it("files a check's results under its own categories only (tsc refuses another)", async () => {
    const scratch = defineCheck({
      categories: { scratch: { title: "Scratch", markdownOrder: 99 } },
      // @ts-expect-error: "nat" is not one of this check's categories
      run: async () => [check("nat", "a result", true, "x", "x")],
    });
    assert.deepEqual(Object.keys(scratch.categories), ["scratch"]);
  });
});
