// The lab's calico CNI executable: a kubelet-style call (network config on stdin, CNI_* in the
// environment) handed whole to the host's running calico-node agent over its local socket, whose answer
// (result or error JSON, exit status) becomes this process's. The agent does IPAM, the workload endpoint
// and the dataplane with the datastore connection it already holds, so a call costs milliseconds instead
// of a Node.js start and an etcd connection. The socket is named by the network config's
// "calico_lab_agent_socket"; when no agent answers there, the call fails with CNI error 11 (try again
// later) saying so. Protocol: one JSON request line {"env":{…},"stdin":"…"}, one JSON reply line
// {"exitCode":n,"stdout":"…"} (src/agent/cni/server.ts).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

type request struct {
	Env   map[string]string `json:"env"`
	Stdin string            `json:"stdin"`
}

type reply struct {
	ExitCode int    `json:"exitCode"`
	Stdout   string `json:"stdout"`
}

// CNI's error codes (SPEC.md, "Error"): 7 invalid network config, 11 try again later.
func fail(version string, code int, msg string) {
	out, _ := json.Marshal(map[string]any{"cniVersion": version, "code": code, "msg": msg})
	os.Stdout.Write(append(out, '\n'))
	os.Exit(1)
}

func main() {
	stdin, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("1.0.0", 7, "reading the network config from stdin: "+err.Error())
	}
	var conf struct {
		CniVersion string `json:"cniVersion"`
		Socket     string `json:"calico_lab_agent_socket"`
	}
	version := "1.0.0"
	if os.Getenv("CNI_COMMAND") == "VERSION" {
		fmt.Println(`{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}`)
		return
	}
	if err := json.Unmarshal(stdin, &conf); err != nil {
		fail(version, 7, "the network config on stdin is not JSON: "+err.Error())
	}
	if conf.CniVersion != "" {
		version = conf.CniVersion
	}
	if conf.Socket == "" {
		fail(version, 7, `the network config has no "calico_lab_agent_socket": this plugin hands each call to the host's calico-node agent and must be told its socket`)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CNI_") || k == "NODENAME" {
			env[k] = v
		}
	}
	conn, err := net.DialTimeout("unix", conf.Socket, 5*time.Second)
	if err != nil {
		fail(version, 11, fmt.Sprintf("calico-node is not running on this host: no agent answers at %s (%v); start the lab's agent (pulumi up) and try again", conf.Socket, err))
	}
	defer conn.Close()
	req, _ := json.Marshal(request{Env: env, Stdin: string(stdin)})
	if _, err := conn.Write(append(req, '\n')); err != nil {
		fail(version, 11, fmt.Sprintf("calico-node at %s: sending the request: %v", conf.Socket, err))
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		fail(version, 11, fmt.Sprintf("calico-node at %s closed the connection before answering (%v); see its agent.log", conf.Socket, err))
	}
	var r reply
	if err := json.Unmarshal(line, &r); err != nil {
		fail(version, 11, fmt.Sprintf("calico-node at %s answered something that is not a reply: %v", conf.Socket, err))
	}
	os.Stdout.WriteString(r.Stdout)
	os.Exit(r.ExitCode)
}
