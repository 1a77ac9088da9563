// The supervisor's rules against state.ts and args.ts (the TypeScript the lab reads its files with):
// the backoff, the status file's transitions byte for byte (as JSON.stringify(status, null, 2) writes
// them: the goldens below are state.ts's output for the same transitions), describe(), JavaScript's
// toFixed and Number, and the command line's errors as parseSuperviseArgs words them. The processes
// themselves are tested from TypeScript (test/integration/supervise/).
package main

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

func TestRestartDelay(t *testing.T) {
	var got []int64
	d := int64(-1)
	for i := 0; i < 9; i++ {
		d = restartDelay(defaultBackoff, d, 50)
		got = append(got, d)
	}
	if want := []int64{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}; !reflect.DeepEqual(got, want) {
		t.Fatalf("quick deaths: %v, want %v", got, want)
	}
	for _, c := range []struct{ prev, ran, want int64 }{{5000, 10_000, 100}, {5000, 9_999, 5000}, {800, math.MaxInt64, 100}} {
		if d := restartDelay(defaultBackoff, c.prev, c.ran); d != c.want {
			t.Errorf("restartDelay(%d, %d) = %d, want %d", c.prev, c.ran, d, c.want)
		}
	}
	p := backoff{initialMs: 50, maxMs: 120, healthyMs: 1000}
	got = []int64{restartDelay(p, -1, 1), restartDelay(p, 50, 1), restartDelay(p, 100, 1), restartDelay(p, 120, 999), restartDelay(p, 120, 1000)}
	if want := []int64{50, 100, 120, 120, 50}; !reflect.DeepEqual(got, want) {
		t.Errorf("another policy: %v, want %v", got, want)
	}
}

// state.ts's output for: initial, started 42, killed (SIGKILL after 1250 ms, next in 100), started 43,
// exited 3 (after 1150 ms, next in 200), stopped, started 44, stopped (SIGTERM after 250 ms); each
// status file followed by describe().
var goldens = []string{
	`{
  "name": "agent",
  "supervisorPid": 1000,
  "state": "restarting",
  "starts": 0,
  "restartInMs": 0,
  "since": "2026-01-02T03:04:05.001Z"
}
`,
	`agent restarting (not started yet; next start in 0.0 s)`,
	`{
  "name": "agent",
  "supervisorPid": 1000,
  "state": "running",
  "starts": 1,
  "since": "2026-01-02T03:04:05.002Z",
  "pid": 42
}
`,
	`agent running (pid 42, start 1)`,
	`{
  "name": "agent",
  "supervisorPid": 1000,
  "state": "restarting",
  "starts": 1,
  "since": "2026-01-02T03:04:05.004Z",
  "lastExit": {
    "code": null,
    "signal": "SIGKILL",
    "ranMs": 1250,
    "at": "2026-01-02T03:04:05.003Z"
  },
  "restartInMs": 100
}
`,
	`agent restarting (killed by SIGKILL after 1.3 s; next start in 0.1 s)`,
	`{
  "name": "agent",
  "supervisorPid": 1000,
  "state": "running",
  "starts": 2,
  "since": "2026-01-02T03:04:05.005Z",
  "lastExit": {
    "code": null,
    "signal": "SIGKILL",
    "ranMs": 1250,
    "at": "2026-01-02T03:04:05.003Z"
  },
  "pid": 43
}
`,
	`agent running (pid 43, start 2)`,
	`{
  "name": "agent",
  "supervisorPid": 1000,
  "state": "restarting",
  "starts": 2,
  "since": "2026-01-02T03:04:05.007Z",
  "lastExit": {
    "code": 3,
    "signal": null,
    "ranMs": 1150,
    "at": "2026-01-02T03:04:05.006Z"
  },
  "restartInMs": 200
}
`,
	`agent restarting (exited with code 3 after 1.1 s; next start in 0.2 s)`,
	`{
  "name": "agent",
  "supervisorPid": 1000,
  "state": "stopped",
  "starts": 2,
  "since": "2026-01-02T03:04:05.008Z",
  "lastExit": {
    "code": 3,
    "signal": null,
    "ranMs": 1150,
    "at": "2026-01-02T03:04:05.006Z"
  }
}
`,
	`agent stopped (exited with code 3 after 1.1 s)`,
	`{
  "name": "agent",
  "supervisorPid": 1000,
  "state": "running",
  "starts": 3,
  "since": "2026-01-02T03:04:05.009Z",
  "lastExit": {
    "code": 3,
    "signal": null,
    "ranMs": 1150,
    "at": "2026-01-02T03:04:05.006Z"
  },
  "pid": 44
}
`,
	`agent running (pid 44, start 3)`,
	`{
  "name": "agent",
  "supervisorPid": 1000,
  "state": "stopped",
  "starts": 3,
  "since": "2026-01-02T03:04:05.010Z",
  "lastExit": {
    "code": null,
    "signal": "SIGTERM",
    "ranMs": 250,
    "at": "2026-01-02T03:04:05.011Z"
  }
}
`,
	`agent stopped (killed by SIGTERM after 0.3 s)`,
}

func TestStatusFilesAsStateTsWritesThem(t *testing.T) {
	ms := 0
	clock = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, ms*1e6, time.UTC) }
	defer func() { clock = time.Now }()
	tick := func() { ms++ }
	code3 := 3
	var got []string
	var s *status
	dump := func() { got = append(got, string(stringify(s.o)), s.describe()) }
	tick()
	s = initialStatus("agent", 1000)
	dump()
	tick()
	s = s.started(42)
	dump()
	tick()
	killed := serviceExit{signal: "SIGKILL", ranMs: 1250, at: isoNow()}
	tick()
	s = s.exited(killed, 100)
	dump()
	tick()
	s = s.started(43)
	dump()
	tick()
	exited3 := serviceExit{code: &code3, ranMs: 1150, at: isoNow()}
	tick()
	s = s.exited(exited3, 200)
	dump()
	tick()
	s = s.stopped(nil)
	dump()
	tick()
	s = s.started(44)
	dump()
	ms = 11
	termed := serviceExit{signal: "SIGTERM", ranMs: 250, at: isoNow()}
	ms = 10
	s = s.stopped(&termed)
	dump()
	if len(got) != len(goldens) {
		t.Fatalf("%d lines, want %d", len(got), len(goldens))
	}
	for i := range got {
		if got[i] != goldens[i] {
			t.Errorf("step %d:\n%s\nwant\n%s", i/2, got[i], goldens[i])
		}
	}
}

func TestServiceStatusRewriteKeepsItsOrder(t *testing.T) {
	o, err := parseObject([]byte(`{"phase":"ready","node":"n1","x":{"b":[1,2],"a":{}},"s":"a\u0001\"<&>"}`))
	if err != nil {
		t.Fatal(err)
	}
	o.set("phase", "restarting").set("error", "e\n").set("updatedAt", "t")
	want := `{
  "phase": "restarting",
  "node": "n1",
  "x": {
    "b": [
      1,
      2
    ],
    "a": {}
  },
  "s": "a\u0001\"<&>",
  "error": "e\n",
  "updatedAt": "t"
}
`
	if got := string(stringify(o)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{"", "[1]", `{"a":1} x`, `{"a":`, "null"} {
		if _, err := parseObject([]byte(bad)); err == nil {
			t.Errorf("parseObject(%q): no error", bad)
		}
	}
}

func TestToFixed1IsJavaScripts(t *testing.T) {
	// (ms / 1000).toFixed(1) in node: exact ties round up, the others by the double's exact value.
	for ms, want := range map[int64]string{0: "0.0", 49: "0.0", 50: "0.1", 250: "0.3", 1150: "1.1", 1250: "1.3", 1050: "1.1", 12345: "12.3", 99999: "100.0", -250: "-0.3", -10: "0.0"} {
		if got := toFixed1(ms); got != want {
			t.Errorf("toFixed1(%d) = %s, want %s", ms, got, want)
		}
	}
}

func TestJsNumber(t *testing.T) {
	for s, want := range map[string]float64{"": 0, " 12 ": 12, "1e3": 1000, "0x10": 16, "0b11": 3, "0o17": 15, "1.5": 1.5, "-1": -1, ".5": 0.5, "5.": 5, "+3": 3} {
		if got := jsNumber(s); got != want {
			t.Errorf("Number(%q) = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"abc", "1_000", "0x", "-0x10", "1e", "Inf", "0x1p-2", "12px", "."} {
		if got := jsNumber(s); !math.IsNaN(got) {
			t.Errorf("Number(%q) = %v, want NaN", s, got)
		}
	}
	if !math.IsInf(jsNumber("-Infinity"), -1) || !math.IsInf(jsNumber("1e400"), 1) {
		t.Error("Number of infinities")
	}
}

func TestArgsAsArgsTsParsesThem(t *testing.T) {
	usage := "usage: supervise --name N --run-dir D [options] -- argv…"
	// parseSuperviseArgs's messages for the same command lines.
	for argv, want := range map[string]string{
		`[]`:                                   usage,
		`["--name","x","--run-dir","/d","--"]`: usage,
		`["--name","x","--run-dir","/d","sh"]`: usage,
		`["--name","--","sh"]`:                 "supervise: bad option --name",
		`["name","x","--","sh"]`:               "supervise: bad option name",
		`["--name","x","--run-dir","/d","--bogus","1","--","sh"]`:                "supervise: unknown option --bogus",
		`["--name","","--run-dir","/d","--","sh"]`:                               "supervise: --name and --run-dir are required",
		`["--run-dir","/d","--","sh"]`:                                           "supervise: --name and --run-dir are required",
		`["--name","x","--run-dir","/d","--grace-ms","-1","--","sh"]`:            "supervise: --grace-ms -1",
		`["--name","x","--run-dir","/d","--grace-ms","1.5","--","sh"]`:           "supervise: --grace-ms 1.5",
		`["--name","x","--run-dir","/d","--grace-ms","abc","--","sh"]`:           "supervise: --grace-ms abc",
		`["--name","x","--run-dir","/d","--final-exit-codes","3,256","--","sh"]`: "supervise: --final-exit-codes 3,256",
		`["--name","x","--run-dir","/d","--final-exit-codes","3,x","--","sh"]`:   "supervise: --final-exit-codes 3,x",
		`["--name","x","--run-dir","/d","--bogus","1","--name","--","sh"]`:       "supervise: bad option --name",
	} {
		var a []string
		if err := json.Unmarshal([]byte(argv), &a); err != nil {
			t.Fatal(err)
		}
		if _, err := parseArgs(a); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", argv, err, want)
		}
	}
	for _, c := range []struct {
		argv []string
		want spec
	}{
		{[]string{"--name", "x", "--run-dir", "/d", "--grace-ms", " 0x10 ", "--final-exit-codes", "3,,1e0", "--cwd", "", "--", "sh", "-c", "x"},
			spec{name: "x", runDir: "/d", graceMs: 16, finalExitCodes: []int{3, 0, 1}, argv: []string{"sh", "-c", "x"}, backoff: defaultBackoff}},
		{[]string{"--name", "x", "--run-dir", "/d", "--grace-ms", "", "--", "sh"},
			spec{name: "x", runDir: "/d", graceMs: 0, argv: []string{"sh"}, backoff: defaultBackoff}},
		{[]string{"--name", "x", "--run-dir", "/d", "--name", "y", "--grace-ms", "1e3", "--status-json", "/d/s.json", "--cwd", "/r", "--", "a", "--", "b"},
			spec{name: "y", runDir: "/d", graceMs: 1000, statusJSON: "/d/s.json", cwd: "/r", argv: []string{"a", "--", "b"}, backoff: defaultBackoff}},
		{[]string{"--name", "x", "--run-dir", "/d", "--", "sh"},
			spec{name: "x", runDir: "/d", graceMs: 3000, argv: []string{"sh"}, backoff: defaultBackoff}},
	} {
		got, err := parseArgs(c.argv)
		if err != nil || !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%q: %+v %v, want %+v", c.argv, got, err, c.want)
		}
	}
}
