// One CNI call, whoever received it: the plugin process (main.ts: its own environment and stdin) or the
// agent's socket (server.ts: the environment and stdin the lab's CNI executable forwarded). Never throws:
// the result or the CNI error JSON, and the exit status the executable must return.
import type { Datastore } from "../datastore/etcd.ts";
import { CniError, CNI_ERR, errorJson, parseEnv, parseNetConf, versionResult, type NetConf } from "./args.ts";
import { cmdAdd, cmdCheck, cmdDel } from "./plugin.ts";

export interface CniOutcome {
  exitCode: number;
  /** What the executable prints on stdout: the result, or the error JSON. */
  stdout: string;
  /** The error's stack, for CNI_DEBUG. */
  debug?: string;
}

export interface RunCniOptions {
  /** A datastore connection the caller already holds for this network config (left open), if any. */
  datastoreFor?: (conf: NetConf) => Datastore | undefined;
}

export async function runCni(
  env: Record<string, string | undefined>,
  stdin: string,
  o: RunCniOptions = {},
): Promise<CniOutcome> {
  let version = "1.0.0";
  try {
    const parsed = parseEnv(env);
    if (parsed.command === "VERSION") return { exitCode: 0, stdout: JSON.stringify(versionResult()) + "\n" };
    const conf = parseNetConf(stdin);
    version = conf.cniVersion;
    const ds = o.datastoreFor?.(conf);
    if (parsed.command === "ADD")
      return { exitCode: 0, stdout: JSON.stringify(await cmdAdd(parsed, conf, env, ds)) + "\n" };
    if (parsed.command === "DEL") await cmdDel(parsed, conf, env, ds);
    else await cmdCheck(parsed, conf, env, ds);
    return { exitCode: 0, stdout: "" };
  } catch (e) {
    const err =
      e instanceof CniError ? e : new CniError(CNI_ERR.internal, (e as Error)?.message ?? String(e));
    return {
      exitCode: 1,
      stdout: JSON.stringify(errorJson(err, version)) + "\n",
      debug: (e as Error)?.stack ?? String(e),
    };
  }
}
