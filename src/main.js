// Pulumi.yaml's entry point. Loads the TypeScript program through tsx (ESM, no build step)
// and hands Pulumi its main function, whose result becomes the stack outputs.
import { register } from "tsx/esm/api";

register();
const program = await import("./program.ts");

export default program.main;
