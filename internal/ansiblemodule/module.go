package ansiblemodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// defaultExecutables are where the reinstall binary is looked for when the
// task names none and it is not in the PATH Ansible gives.
var defaultExecutables = []string{"/usr/sbin/reinstall", "/usr/local/sbin/reinstall"}

// stderrTail bounds the reinstall's stderr returned in the result.
const stderrTail = 64 << 10

// Main runs the module: argv[1] is the path of the JSON args file Ansible
// wrote. It prints one JSON object on stdout and returns the process's
// exit code (0 whenever it could print a result: Ansible reads failed).
func Main(argv []string, stdout io.Writer) int {
	res := run(argv)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return 1
	}
	return 0
}

func run(argv []string) map[string]any {
	if len(argv) < 2 {
		return failure("reinstall_ct: want the path of the JSON args file as the first argument")
	}
	data, err := os.ReadFile(argv[1])
	if err != nil {
		return failure(fmt.Sprintf("reinstall_ct: %v", err))
	}
	a, err := ParseArgs(data)
	if err != nil {
		return failure("reinstall_ct: " + err.Error())
	}
	exe, err := executable(a.Executable)
	if err != nil {
		return failure("reinstall_ct: " + err.Error())
	}
	return runReinstall(exe, a)
}

func failure(msg string) map[string]any {
	return map[string]any{"failed": true, "changed": false, "msg": msg}
}

// executable is the reinstall binary to run.
func executable(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if p, err := exec.LookPath("reinstall"); err == nil {
		return p, nil
	}
	for _, p := range defaultExecutables {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errors.New("no reinstall binary in PATH or " + fmt.Sprint(defaultExecutables) + ": set executable")
}

// runReinstall runs the reinstall and turns what it printed into the
// module's result: the result object itself, or in check mode the plan.
func runReinstall(exe string, a Args) map[string]any {
	ctx := context.Background()
	if a.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(a.Timeout)*time.Second)
		defer cancel()
	}
	argv := a.reinstallArgs()
	cmd := exec.CommandContext(ctx, exe, argv...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) } // it rolls back: wait for it
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = nil
	err := cmd.Run()
	if cmd.ProcessState == nil {
		return failure(fmt.Sprintf("reinstall_ct: run %s: %v", exe, err))
	}
	rc := cmd.ProcessState.ExitCode()
	res := map[string]any{}
	if a.CheckMode {
		res = checkResult(stdout.Bytes(), rc, string(lastLine(stderr.Bytes())))
	} else if jerr := json.Unmarshal(lastLine(stdout.Bytes()), &res); jerr != nil {
		res = map[string]any{"failed": true, "changed": rc == 0 || rc == 3, "rc": rc,
			"msg": fmt.Sprintf("reinstall printed no result (exit %d): %s", rc, lastLine(stderr.Bytes()))}
	}
	if ctx.Err() == context.DeadlineExceeded {
		res["msg"] = fmt.Sprintf("timed out after %ds: %v", a.Timeout, res["msg"])
		res["failed"] = true
	}
	res["cmd"] = append([]string{exe}, argv...)
	res["stderr"] = tail(stderr.String(), stderrTail)
	return res
}

// checkResult is check mode's result: the plan, and changed true, as the
// run would change the container.
func checkResult(plan []byte, rc int, errLine string) map[string]any {
	res := map[string]any{"changed": rc == 0, "failed": rc != 0, "rc": rc}
	var p any
	if err := json.Unmarshal(plan, &p); err == nil {
		res["plan"] = p
	}
	if rc == 0 {
		res["msg"] = "check mode: the plan of the reinstall; nothing changed"
	} else {
		res["msg"] = "check mode: the reinstall would be refused: " + errLine
	}
	return res
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
