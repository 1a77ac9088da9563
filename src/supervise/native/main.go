// The supervisor of one lab service, as runit's runsv is for each of calico-node's daemons: a static
// Go program (a Node.js supervisor cost ~46 MB and 0.1-0.2 s of CPU per service; a 50-host lab runs
// ~100 of them). It starts the service in its own session and process group, starts it again with
// backoff when it dies, and keeps <runDir>/<name>.supervise.json saying the truth: running with its pid,
// or restarting since when and why. When the service dies, what is left of its process group is killed
// (a killed agent's `ip -o monitor` child is never orphaned); a daemon in a session of its own (the
// agent's BIRD) is not in that group and lives on. SIGTERM or SIGINT: stop the service (SIGTERM to its
// group, SIGKILL after the grace time), then exit 0. SIGHUP is ignored.
//
//	supervise --name <name> --run-dir <dir> [--grace-ms N] [--status-json F] [--cwd DIR]
//	  [--final-exit-codes 3,…] -- <argv of the service…>
//
// The rules and the file formats are those of src/supervise/ (args.ts, state.ts), which the TypeScript
// side reads: the same command line, the same status file, field for field and byte for byte.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ---- the command line (args.ts parseSuperviseArgs) ----

type spec struct {
	name, runDir, statusJSON, cwd string
	graceMs                       float64
	argv                          []string
	finalExitCodes                []int
	backoff                       backoff
}

var (
	jsDecimal = regexp.MustCompile(`^[+-]?(Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$`)
	jsBased   = regexp.MustCompile(`^0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)$`)
)

// jsNumber is JavaScript's Number(string): trimmed, "" is 0, decimal, Infinity, 0x/0o/0b; else NaN.
func jsNumber(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if jsBased.MatchString(s) {
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[1]|0x20]
		n, ok := new(big.Int).SetString(s[2:], base)
		if !ok {
			return math.NaN()
		}
		f, _ := new(big.Float).SetInt(n).Float64()
		return f
	}
	if !jsDecimal.MatchString(s) {
		return math.NaN()
	}
	if strings.HasSuffix(s, "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return math.NaN()
	}
	return f
}

func isInteger(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) && f == math.Trunc(f) }

func parseArgs(argv []string) (*spec, error) {
	sep := -1
	for i, a := range argv {
		if a == "--" {
			sep = i
			break
		}
	}
	if sep < 0 || sep == len(argv)-1 {
		return nil, errors.New("usage: supervise --name N --run-dir D [options] -- argv…")
	}
	opts := map[string]string{}
	var order []string
	head := argv[:sep]
	for i := 0; i < len(head); i += 2 {
		key := head[i]
		if !strings.HasPrefix(key, "--") || i+1 >= len(head) {
			return nil, fmt.Errorf("supervise: bad option %s", key)
		}
		k := key[2:]
		if _, seen := opts[k]; !seen {
			order = append(order, k)
		}
		opts[k] = head[i+1]
	}
	known := map[string]bool{"name": true, "run-dir": true, "grace-ms": true, "status-json": true, "cwd": true, "final-exit-codes": true}
	for _, k := range order {
		if !known[k] {
			return nil, fmt.Errorf("supervise: unknown option --%s", k)
		}
	}
	s := &spec{name: opts["name"], runDir: opts["run-dir"], statusJSON: opts["status-json"], cwd: opts["cwd"], backoff: defaultBackoff}
	if s.name == "" || s.runDir == "" {
		return nil, errors.New("supervise: --name and --run-dir are required")
	}
	s.graceMs = 3000
	if g, ok := opts["grace-ms"]; ok {
		s.graceMs = jsNumber(g)
		if !isInteger(s.graceMs) || s.graceMs < 0 {
			return nil, fmt.Errorf("supervise: --grace-ms %s", g)
		}
	}
	if finals := opts["final-exit-codes"]; finals != "" {
		for _, c := range strings.Split(finals, ",") {
			n := jsNumber(c)
			if !isInteger(n) || n < 0 || n > 255 {
				return nil, fmt.Errorf("supervise: --final-exit-codes %s", finals)
			}
			s.finalExitCodes = append(s.finalExitCodes, int(n))
		}
	}
	s.argv = argv[sep+1:]
	return s, nil
}

// ---- the backoff (state.ts DEFAULT_BACKOFF, restartDelay) ----

type backoff struct{ initialMs, maxMs, healthyMs int64 }

var defaultBackoff = backoff{initialMs: 100, maxMs: 5000, healthyMs: 10_000}

// restartDelay: the delay before starting again a service that ran ranMs and died, given the delay
// used before its last start (previous < 0: none, it was the first start).
func restartDelay(p backoff, previous, ranMs int64) int64 {
	if previous < 0 || ranMs >= p.healthyMs {
		return p.initialMs
	}
	return min(max(previous*2, p.initialMs), p.maxMs)
}

// ---- JSON as JavaScript writes it: keys in insertion order, JSON.stringify(v, null, 2) ----

type field struct {
	key string
	val any // string, int64, nil, json.RawMessage (kept as read), *object
}

// object is a JavaScript object: a key set again keeps its place, a new key goes last.
type object struct{ fields []field }

func (o *object) set(k string, v any) *object {
	for i := range o.fields {
		if o.fields[i].key == k {
			o.fields[i].val = v
			return o
		}
	}
	o.fields = append(o.fields, field{k, v})
	return o
}

func (o *object) del(k string) *object {
	for i := range o.fields {
		if o.fields[i].key == k {
			o.fields = append(o.fields[:i:i], o.fields[i+1:]...)
			return o
		}
	}
	return o
}

func (o *object) get(k string) (any, bool) {
	for _, f := range o.fields {
		if f.key == k {
			return f.val, true
		}
	}
	return nil, false
}

func (o *object) clone() *object {
	return &object{fields: append([]field(nil), o.fields...)}
}

// quote is JSON.stringify of a string (control characters as \uXXXX but \b \f \n \r \t).
func quote(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

func writeValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		quote(b, x)
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case json.RawMessage:
		_ = json.Compact(b, x)
	case *object:
		b.WriteByte('{')
		for i, f := range x.fields {
			if i > 0 {
				b.WriteByte(',')
			}
			quote(b, f.key)
			b.WriteByte(':')
			writeValue(b, f.val)
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("no JSON for %T", v))
	}
}

// stringify is JSON.stringify(v, null, 2) + "\n".
func stringify(o *object) []byte {
	var compact, out bytes.Buffer
	writeValue(&compact, o)
	_ = json.Indent(&out, compact.Bytes(), "", "  ")
	out.WriteByte('\n')
	return out.Bytes()
}

// parseObject is JSON.parse of a file that holds an object: its keys in order, their values as read.
func parseObject(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	o := &object{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		o.set(t.(string), raw)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return o, nil
}

// writeJSON writes the file atomically: a temporary file beside it, renamed over it.
func writeJSON(file string, o *object) error {
	tmp := fmt.Sprintf("%s.tmp-%d", file, os.Getpid())
	if err := os.WriteFile(tmp, stringify(o), 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// clock is the time the status files say (a test sets it).
var clock = time.Now

// isoNow is new Date().toISOString().
func isoNow() string { return clock().UTC().Format("2006-01-02T15:04:05.000Z") }

// toFixed1 is JavaScript's (ms / 1000).toFixed(1): the exact value of the double, halves rounded up.
func toFixed1(ms int64) string {
	x := float64(ms) / 1000
	sign := ""
	if x < 0 {
		sign, x = "-", -x
	}
	t := new(big.Float).SetPrec(128).Mul(new(big.Float).SetFloat64(x), big.NewFloat(10))
	n, _ := t.Int(nil)
	frac := new(big.Float).SetPrec(128).Sub(t, new(big.Float).SetInt(n))
	if frac.Cmp(big.NewFloat(0.5)) >= 0 {
		n.Add(n, big.NewInt(1))
	}
	tenths := n.Int64()
	if tenths == 0 {
		sign = ""
	}
	return fmt.Sprintf("%s%d.%d", sign, tenths/10, tenths%10)
}

// ---- the state file (state.ts): what the supervisor knows about its service ----

type serviceExit struct {
	code   *int
	signal string // "" for none
	ranMs  int64
	at     string
}

func (e serviceExit) object() *object {
	o := &object{}
	if e.code != nil {
		o.set("code", int64(*e.code))
	} else {
		o.set("code", nil)
	}
	if e.signal != "" {
		o.set("signal", e.signal)
	} else {
		o.set("signal", nil)
	}
	return o.set("ranMs", e.ranMs).set("at", e.at)
}

// status is a SuperviseStatus as an object (its key order follows state.ts's spreads), plus what
// describe() needs.
type status struct {
	o        *object
	name     string
	state    string
	pid      int
	starts   int64
	lastExit *serviceExit
	restart  int64
}

func initialStatus(name string, supervisorPid int) *status {
	o := (&object{}).set("name", name).set("supervisorPid", int64(supervisorPid)).set("state", "restarting").
		set("starts", int64(0)).set("restartInMs", int64(0)).set("since", isoNow())
	return &status{o: o, name: name, state: "restarting"}
}

func (s *status) started(pid int) *status {
	o := s.o.clone().del("restartInMs")
	o.set("state", "running").set("pid", int64(pid)).set("starts", s.starts+1).set("since", isoNow())
	return &status{o: o, name: s.name, state: "running", pid: pid, starts: s.starts + 1, lastExit: s.lastExit}
}

func (s *status) exited(exit serviceExit, restartInMs int64) *status {
	o := s.o.clone().del("pid")
	o.set("state", "restarting").set("lastExit", exit.object()).set("restartInMs", restartInMs).set("since", isoNow())
	return &status{o: o, name: s.name, state: "restarting", starts: s.starts, lastExit: &exit, restart: restartInMs}
}

func (s *status) stopped(exit *serviceExit) *status {
	o := s.o.clone().del("pid").del("restartInMs")
	o.set("state", "stopped")
	last := s.lastExit
	if exit != nil {
		o.set("lastExit", exit.object())
		last = exit
	}
	o.set("since", isoNow())
	return &status{o: o, name: s.name, state: "stopped", starts: s.starts, lastExit: last}
}

func (e *serviceExit) how() string {
	if e.signal != "" {
		return "killed by " + e.signal
	}
	if e.code == nil {
		return "exited with code null"
	}
	return fmt.Sprintf("exited with code %d", *e.code)
}

// describe: one line for a log or a failed check (state.ts describe).
func (s *status) describe() string {
	why, ran := "", ""
	if s.lastExit != nil {
		why = s.lastExit.how()
		ran = fmt.Sprintf(" after %s s", toFixed1(s.lastExit.ranMs))
	}
	switch s.state {
	case "running":
		return fmt.Sprintf("%s running (pid %d, start %d)", s.name, s.pid, s.starts)
	case "stopped":
		if why == "" {
			return s.name + " stopped"
		}
		return fmt.Sprintf("%s stopped (%s%s)", s.name, why, ran)
	}
	if why == "" {
		why = "not started yet"
	}
	return fmt.Sprintf("%s restarting (%s%s; next start in %s s)", s.name, why, ran, toFixed1(s.restart))
}

// ---- the supervisor ----

// Linux's signal names, as Node.js reports a child's terminating signal.
var signalNames = map[syscall.Signal]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

func signalName(sig syscall.Signal) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	return fmt.Sprintf("SIG%d", int(sig))
}

type exitEvent struct {
	pid  int // 0: it never started
	exit serviceExit
}

type supervisor struct {
	spec                     *spec
	statusFile, pidFile, log string
	status                   *status
	delay                    int64 // -1: none yet
	childPid                 int   // 0: no child
	startedAt                time.Time
	stopping                 bool
	timer                    *time.Timer
	exits                    chan exitEvent
}

func newSupervisor(s *spec) *supervisor {
	return &supervisor{
		spec:       s,
		statusFile: filepath.Join(s.runDir, s.name+".supervise.json"),
		pidFile:    filepath.Join(s.runDir, s.name+".pid"),
		log:        filepath.Join(s.runDir, s.name+".log"),
		status:     initialStatus(s.name, os.Getpid()),
		delay:      -1,
		exits:      make(chan exitEvent, 1),
	}
}

// logf: a line of the supervisor's own in the service's log.
func (v *supervisor) logf(format string, a ...any) {
	f, err := os.OpenFile(v.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return // the run folder is being removed
	}
	fmt.Fprintf(f, "%s supervise %s: %s\n", isoNow(), v.spec.name, fmt.Sprintf(format, a...))
	f.Close()
}

func (v *supervisor) publish(s *status) {
	v.status = s
	_ = writeJSON(v.statusFile, s.o)
}

// markService: the service died or was stopped, its own status file must not keep saying "ready".
func (v *supervisor) markService(phase string) {
	if v.spec.statusJSON == "" {
		return
	}
	data, err := os.ReadFile(v.spec.statusJSON)
	if err != nil {
		return // never written (died before its first word) or removed with the run folder
	}
	old, err := parseObject(data)
	if err != nil {
		return
	}
	// The service's own last word on why it failed stays: "error" and "stopped" are not "ready".
	if raw, ok := old.get("phase"); ok {
		var p string
		if json.Unmarshal(raw.(json.RawMessage), &p) == nil && (p == "error" || p == "stopped") {
			return
		}
	}
	old.set("phase", phase).set("error", v.status.describe()).set("updatedAt", isoNow())
	_ = writeJSON(v.spec.statusJSON, old)
}

// spawnErrno names a start failure as Node.js does ("spawn sh ENOENT").
func spawnErrno(argv0 string, err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name := errnoNames[errno]; name != "" {
			return fmt.Sprintf("spawn %s %s", argv0, name)
		}
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("spawn %s ENOENT", argv0)
	}
	return fmt.Sprintf("spawn %s: %v", argv0, err)
}

var errnoNames = map[syscall.Errno]string{
	syscall.ENOENT: "ENOENT", syscall.EACCES: "EACCES", syscall.ENOTDIR: "ENOTDIR", syscall.EPERM: "EPERM",
	syscall.ENOEXEC: "ENOEXEC", syscall.E2BIG: "E2BIG", syscall.ENOMEM: "ENOMEM", syscall.EAGAIN: "EAGAIN",
	syscall.ELOOP: "ELOOP", syscall.ETXTBSY: "ETXTBSY", syscall.ENAMETOOLONG: "ENAMETOOLONG",
}

// spawnChild starts the service: its own session and process group, stdin /dev/null, stdout and
// stderr appended to its log.
func (v *supervisor) spawnChild() {
	if v.stopping {
		return
	}
	logFile, err := os.OpenFile(v.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		fmt.Fprintf(os.Stderr, "supervise: %v\n", err)
		os.Exit(1)
	}
	defer logFile.Close()
	argv0 := v.spec.argv[0]
	cmd := exec.Command(argv0, v.spec.argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = v.spec.cwd
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	v.startedAt = time.Now()
	err = cmd.Err
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		v.logf("could not start %s: %s", argv0, spawnErrno(argv0, err))
		v.childPid = 0
		v.exits <- exitEvent{exit: serviceExit{ranMs: time.Since(v.startedAt).Milliseconds(), at: isoNow()}}
		return
	}
	pid, startedAt := cmd.Process.Pid, v.startedAt
	v.childPid = pid
	go func() {
		_ = cmd.Wait()
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		e := serviceExit{ranMs: time.Since(startedAt).Milliseconds(), at: isoNow()}
		if ws.Signaled() {
			e.signal = signalName(ws.Signal())
		} else {
			c := ws.ExitStatus()
			e.code = &c
		}
		v.exits <- exitEvent{pid: pid, exit: e}
	}()
	v.publish(v.status.started(pid))
	_ = os.WriteFile(v.pidFile, []byte(fmt.Sprintf("%d\n", pid)), 0o666)
	if v.status.starts > 1 {
		v.logf("started again (pid %d, start %d)", pid, v.status.starts)
	}
}

// afterExit: the service exited; true when the supervisor has nothing left to do (a final exit code).
func (v *supervisor) afterExit(ev exitEvent) bool {
	if ev.pid != 0 {
		if v.childPid == ev.pid {
			v.childPid = 0
		}
		// What the service left in its group (children it did not reap) goes with it.
		_ = syscall.Kill(-ev.pid, syscall.SIGKILL)
	} else {
		v.childPid = 0
	}
	exit := ev.exit
	final := false
	if exit.code != nil {
		for _, c := range v.spec.finalExitCodes {
			final = final || c == *exit.code
		}
	}
	if v.stopping || final {
		v.publish(v.status.stopped(&exit))
		v.markService("stopped")
		if final && !v.stopping {
			v.logf("%s: a final exit code, not starting it again", exit.how())
			_ = os.Remove(v.pidFile)
			return true
		}
		return false
	}
	v.delay = restartDelay(v.spec.backoff, v.delay, exit.ranMs)
	v.publish(v.status.exited(exit, v.delay))
	v.markService("restarting")
	v.logf("%s after %s s: starting again in %d ms", exit.how(), toFixed1(exit.ranMs), v.delay)
	v.timer = time.NewTimer(time.Duration(v.delay) * time.Millisecond)
	return false
}

// timeoutOf is a setTimeout delay as Node.js takes it: beyond 2^31-1 ms, 1 ms.
func timeoutOf(ms float64) time.Duration {
	if ms > math.MaxInt32 {
		ms = 1
	}
	return time.Duration(ms) * time.Millisecond
}

// waitExit: the current child's exit, handled, within d; false when it did not come.
func (v *supervisor) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case ev := <-v.exits:
		v.afterExit(ev)
		return true
	case <-t.C:
		return false
	}
}

// stop stops the service for good: SIGTERM to its group, SIGKILL after the grace time; waits for it.
func (v *supervisor) stop() {
	v.stopping = true
	if v.timer != nil {
		v.timer.Stop()
		v.timer = nil
	}
	if pid := v.childPid; pid != 0 {
		gone := false
		if v.spec.graceMs > 0 {
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			gone = v.waitExit(timeoutOf(v.spec.graceMs))
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		if !gone {
			v.waitExit(2 * time.Second)
		}
	} else {
		v.publish(v.status.stopped(nil))
		v.markService("stopped")
	}
	_ = os.Remove(v.pidFile)
}

func (v *supervisor) run(signals <-chan os.Signal) {
	v.publish(v.status)
	v.spawnChild()
	for {
		var timerC <-chan time.Time
		if v.timer != nil {
			timerC = v.timer.C
		}
		select {
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				continue
			}
			v.logf("%s: stopping the service", signalName(sig.(syscall.Signal)))
			v.stop()
			os.Exit(0)
		case ev := <-v.exits:
			if v.afterExit(ev) {
				os.Exit(0)
			}
		case <-timerC:
			v.timer = nil
			v.spawnChild()
		}
	}
}

func main() {
	s, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "supervise: %s\n", err)
		os.Exit(2)
	}
	// Caught, not ignored: an ignored signal would stay ignored in the service (exec keeps SIG_IGN).
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	newSupervisor(s).run(signals)
}
