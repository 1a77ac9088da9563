// The capture classifier against tcpdump -nn -e output recorded from real labs on this machine.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyCapture, describePacket, joinFrames } from "../../../src/verify/capture.ts";

// bgp stack: busybox-1 (worker-1) -> busybox-2 (worker-2), captured on the underlay bridge.
const PLAIN = [
  "14:20:29.484629 3a:45:41:66:f6:d4 > 02:ba:b0:6f:e2:9e, ethertype IPv4 (0x0800), length 98: 10.244.139.64 > 10.244.93.1: ICMP echo request, id 15073, seq 1, length 64",
];
// vxlan stack: tcpdump prints the inner frame on a continuation line.
const VXLAN = [
  "14:26:34.808196 52:8c:33:79:6a:32 > e2:97:d1:83:70:90, ethertype IPv4 (0x0800), length 148: 192.168.19.166.39909 > 192.168.19.167.4789: VXLAN, flags [I] (0x08), vni 4096",
  "66:73:f9:32:2d:08 > 66:70:f9:2d:74:08, ethertype IPv4 (0x0800), length 98: 10.244.139.65 > 10.244.93.1: ICMP echo request, id 32038, seq 1, length 64",
  "14:26:34.808232 e2:97:d1:83:70:90 > 52:8c:33:79:6a:32, ethertype IPv4 (0x0800), length 148: 192.168.19.167.39909 > 192.168.19.166.4789: VXLAN, flags [I] (0x08), vni 4096",
  "66:70:f9:2d:74:08 > 66:73:f9:32:2d:08, ethertype IPv4 (0x0800), length 98: 10.244.93.1 > 10.244.139.65: ICMP echo reply, id 32038, seq 1, length 64",
];
// IP-in-IP as tcpdump -nn -e prints it: outer addresses, then the inner packet on the same line.
const IPIP = [
  "10:01:02.000001 52:54:00:12:34:56 > 52:54:00:12:34:57, ethertype IPv4 (0x0800), length 118: 10.77.0.2 > 10.77.0.1: 10.244.2.1 > 10.244.1.1: ICMP echo request, id 7, seq 1, length 64",
];

describe("underlay capture classifier", () => {
  it("plain: ICMP between pod addresses, with the sending host's MAC", () => {
    const p = classifyCapture(PLAIN, "10.244.139.64", "10.244.93.1");
    assert.equal(p?.kind, "plain");
    assert.equal(p?.srcMac, "3a:45:41:66:f6:d4");
    assert.equal(
      describePacket(p),
      "plain ICMP between pod addresses, frame 3a:45:41:66:f6:d4 > 02:ba:b0:6f:e2:9e",
    );
  });

  it("vxlan: UDP 4789 between the nodes carrying the pod's ICMP (continuation lines joined)", () => {
    assert.equal(joinFrames(VXLAN).length, 2);
    const p = classifyCapture(VXLAN, "10.244.139.65", "10.244.93.1");
    assert.deepEqual([p?.kind, p?.outerSrc, p?.outerDst], ["vxlan", "192.168.19.166", "192.168.19.167"]);
  });

  it("ipip: protocol 4 between the nodes carrying the pod's ICMP", () => {
    const p = classifyCapture(IPIP, "10.244.2.1", "10.244.1.1");
    assert.deepEqual([p?.kind, p?.outerSrc, p?.outerDst], ["ipip", "10.77.0.2", "10.77.0.1"]);
    assert.match(describePacket(p), /^IP-in-IP \(protocol 4\) 10\.77\.0\.2 > 10\.77\.0\.1/);
  });

  it("nothing when the request is not there (replies and other pairs do not count)", () => {
    assert.equal(classifyCapture(VXLAN, "10.244.93.1", "10.244.1.99"), undefined);
    assert.equal(describePacket(undefined), "no matching packet on the underlay");
  });
});
