// A stack pod's wait: Ready with an address, still coming, or stuck for good (an image never pulled); the
// failed wait's message is pinned by a golden file: expected, seen, the pod's last event, where to look.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  lastEvent,
  podPollMs,
  podProgress,
  podWaitFailure,
  type EventsJson,
  type PodJson,
} from "../../../src/kubernetes/pod-status.ts";
import { assertGolden } from "../../support/golden.ts";

const creating: PodJson = {
  status: {
    phase: "Pending",
    conditions: [{ type: "Ready", status: "False" }],
    containerStatuses: [{ name: "busybox", state: { waiting: { reason: "ContainerCreating" } } }],
  },
};

const events: EventsJson = {
  items: [
    {
      type: "Normal",
      reason: "Scheduled",
      message: "Successfully assigned default/pod-1 to worker-1",
      lastTimestamp: "2026-12-02T12:20:01Z",
    },
    {
      type: "Warning",
      reason: "FailedCreatePodSandBox",
      message:
        'Failed to create pod sandbox: plugin type="calico" failed (add): etcd_ca_cert_file must be a path',
      lastTimestamp: "2026-12-02T12:20:09Z",
      count: 41,
    },
    {
      type: "Normal",
      reason: "SandboxChanged",
      message: "Pod sandbox changed, it will be killed and re-created.",
      lastTimestamp: "2026-12-02T12:20:05Z",
    },
  ],
};

describe("a stack pod's wait", () => {
  it("is ready only when Ready is True and it has an address", () => {
    assert.deepEqual(
      podProgress({
        status: { phase: "Running", podIP: "10.244.1.2", conditions: [{ type: "Ready", status: "True" }] },
      }),
      { kind: "ready", ip: "10.244.1.2" },
    );
    assert.equal(
      podProgress({ status: { conditions: [{ type: "Ready", status: "True" }] } }).kind,
      "waiting",
    );
    assert.deepEqual(podProgress(creating), {
      kind: "waiting",
      seen: "phase Pending, busybox ContainerCreating",
    });
  });
  it("is stuck at once on an image the node does not have (nothing is pulled here)", () => {
    const p = podProgress({
      status: {
        phase: "Pending",
        containerStatuses: [
          {
            name: "busybox",
            state: {
              waiting: { reason: "ErrImageNeverPull", message: 'Container image "busybox:1" is not present' },
            },
          },
        ],
      },
    });
    assert.equal(p.kind, "stuck");
  });
  it("names the newest warning as the last event, with its count", () => {
    assert.equal(
      lastEvent(events),
      'Warning FailedCreatePodSandBox: Failed to create pod sandbox: plugin type="calico" failed (add): etcd_ca_cert_file must be a path (41 times)',
    );
    assert.equal(lastEvent({ items: [] }), undefined);
  });
  it("fails with what was expected and what was seen", async () => {
    const seen = podProgress(creating);
    assert.ok(seen.kind === "waiting");
    await assertGolden(
      "kubernetes/pod-wait-failure.txt",
      podWaitFailure({
        name: "pod-1",
        namespace: "default",
        host: "worker-1",
        waitedS: 600,
        seen: seen.seen,
        event: lastEvent(events),
        stuck: false,
        kubectlHint: "bash scripts/kubectl --stack ipip-k8s",
      }) + "\n",
    );
  });
});

it("podPollMs: every 3 s for a pod's first 30 s, then every 10 s", () => {
  assert.equal(podPollMs(0), 3000);
  assert.equal(podPollMs(29_999), 3000);
  assert.equal(podPollMs(30_000), 10_000);
  assert.equal(podPollMs(600_000), 10_000);
});
