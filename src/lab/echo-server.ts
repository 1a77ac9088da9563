// Seed 003's echo server: answers every HTTP request with who it is and who asked, so a cross-node
// request shows which pod answered and which source address arrived (pod IP, or the node's after NAT).
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 8080);
const name = process.argv[3] ?? "echo";

const server = createServer((req, res) => {
  const body = JSON.stringify({ pod: name, client: req.socket.remoteAddress, path: req.url }) + "\n";
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
server.listen(port, "0.0.0.0", () => process.stderr.write(`echo server ${name} listening on :${port}\n`));
// Nothing to flush: exit at once (closing first waited for idle keep-alive connections).
process.on("SIGTERM", () => process.exit(0));
