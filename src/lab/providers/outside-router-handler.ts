import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tryRun } from "../../effects/exec.ts";
import { daemonPid, daemonSupervision, startDaemon, stopDaemon } from "../../effects/daemon.ts";
import type { Handler } from "./handler.ts";

/** BIRD on the outside host (seed 004's router): eBGP to the cluster, pod routes into its kernel. */
export interface OutsideRouterInputs {
  netns: string;
  runDir: string;
  birdConf: string;
}

const NAME = "outside-bird";

async function start(i: OutsideRouterInputs): Promise<number> {
  await mkdir(i.runDir, { recursive: true });
  const conf = join(i.runDir, "outside-bird.conf");
  const sock = join(i.runDir, "outside-bird.ctl");
  await writeFile(conf, i.birdConf);
  return startDaemon({
    name: NAME,
    netns: i.netns,
    argv: ["bird", "-f", "-c", conf, "-s", sock],
    runDir: i.runDir,
    ready: async () => (await tryRun(["birdc", "-s", sock, "show", "status"])).exitCode === 0,
    supervised: true,
  });
}

export const outsideRouterHandler: Handler<OutsideRouterInputs> = {
  replaceOn: ["netns", "runDir"],
  async create(inputs) {
    await start(inputs);
    return { id: `${inputs.netns}/bird`, outs: inputs };
  },
  async read(_id, props) {
    // Supervised, it exists while restarting too (its supervisor starts it again).
    const up = (await daemonPid(props.runDir, NAME)) ?? (await daemonSupervision(props.runDir, NAME));
    return up ? props : undefined;
  },
  async update(_id, _olds, news) {
    await stopDaemon(news.runDir, NAME);
    await start(news);
    return news;
  },
  async delete(_id, props) {
    await stopDaemon(props.runDir, NAME);
    for (const f of ["outside-bird.conf", "outside-bird.ctl", `${NAME}.log`, `${NAME}.supervise.json`]) {
      await rm(join(props.runDir, f), { force: true });
    }
  },
};
