// Daemons: etcd, calico-node and BIRD alive and ready, read from the processes; etcd answers.
import { onlyCatchingUp, verifyDaemons } from "../daemon-checks.ts";
import { defineCheck } from "./spec.ts";

export const daemonsCheck = defineCheck({
  categories: { daemons: { title: "Daemons: etcd, calico-node, BIRD", markdownOrder: 1 } },
  async run(ctx) {
    const { read, birdOn } = await ctx.datastore();
    const dirs = { runDir: ctx.runDir, hostRunDir: ctx.hostRunDir, birdOn };
    // A calico-node that runs but is catching up (it is "unready" until its etcd watch is back) gets the
    // same deadline as a ping; a dead daemon fails at once, with what was seen.
    return ctx.retry(
      () => verifyDaemons(ctx.plan, read, dirs),
      (cs) => !onlyCatchingUp(cs),
    );
  },
});
