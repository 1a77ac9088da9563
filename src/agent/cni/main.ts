// Entry point of the `calico` CNI executable: network config on stdin, CNI_* in the environment,
// result (or error) JSON on stdout, exit status 0 on success.
import { CniError, CNI_ERR, errorJson, parseEnv, parseNetConf, versionResult } from "./args.ts";
import { cmdAdd, cmdCheck, cmdDel } from "./plugin.ts";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<number> {
  let version = "1.0.0";
  try {
    const env = parseEnv(process.env);
    if (env.command === "VERSION") {
      process.stdout.write(JSON.stringify(versionResult()) + "\n");
      return 0;
    }
    const conf = parseNetConf(await readStdin());
    version = conf.cniVersion;
    if (env.command === "ADD") process.stdout.write(JSON.stringify(await cmdAdd(env, conf)) + "\n");
    else if (env.command === "DEL") await cmdDel(env, conf);
    else await cmdCheck(env, conf);
    return 0;
  } catch (e) {
    const err =
      e instanceof CniError ? e : new CniError(CNI_ERR.internal, (e as Error)?.message ?? String(e));
    process.stdout.write(JSON.stringify(errorJson(err, version)) + "\n");
    if (process.env.CNI_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main();
// gRPC keeps handles open for a moment after close(); a CNI plugin exits as soon as it has answered.
process.exit();
