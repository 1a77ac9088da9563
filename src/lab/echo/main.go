// Seed 003's echo server as the lab's pods run it: answers every HTTP request with who it is and who
// asked, so a cross-node request shows which pod answered and which source address arrived (the pod's IP,
// or the node's after NAT). A static program: it starts in milliseconds and holds a few MB, where the
// Node.js one (src/lab/echo-server.ts, still what the kubeadm lab's echo image runs) took a quarter of a
// second and ~45 MB per pod.
//
//	echo <port> <pod name> [<lab run folder>/]
//
// The last argument only marks the process as the lab's (CI's residue check looks for it).
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	port := 8080
	name := "echo"
	if len(os.Args) > 1 {
		p, err := strconv.Atoi(os.Args[1])
		if err != nil || p < 1 || p > 65535 {
			fmt.Fprintf(os.Stderr, "echo: %q is not a TCP port\n", os.Args[1])
			os.Exit(2)
		}
		port = p
	}
	if len(os.Args) > 2 {
		name = os.Args[2]
	}
	ln, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "echo server %s listening on :%d\n", name, port)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		os.Exit(0)
	}()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client, _, _ := net.SplitHostPort(r.RemoteAddr)
		body, _ := json.Marshal(struct {
			Pod    string `json:"pod"`
			Client string `json:"client"`
			Path   string `json:"path"`
		}{name, client, r.URL.RequestURI()})
		body = append(body, '\n')
		w.Header().Set("content-type", "application/json")
		w.Header().Set("content-length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
	if err := http.Serve(ln, handler); err != nil {
		fmt.Fprintf(os.Stderr, "echo: %v\n", err)
		os.Exit(1)
	}
}
