// The registry the dynamic provider loads by kind.
import { bridgeHandler } from "./bridge-handler.ts";
import { fileHandler } from "./file-handler.ts";
import type { Handler } from "./handler.ts";
import { netnsHandler } from "./netns-handler.ts";
import { underlayPortHandler } from "./underlay-port-handler.ts";
import { verificationHandler } from "./verification-handler.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const handlers: Record<string, Handler<any, any>> = {
  netns: netnsHandler,
  bridge: bridgeHandler,
  file: fileHandler,
  underlayPort: underlayPortHandler,
  verification: verificationHandler,
};
