//go:build faultinject

package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/reinstall-dev/reinstall/pipeline/journal"
)

// Fault injection for the crash-safety suite, compiled only with the
// faultinject build tag. REINSTALL_FAULT=<target>:<point> SIGKILLs the host
// ("host") or the plugin doing the work ("plugin") at that point:
//
//	record:N  right after journal record N is fsynced
//	exec      while a command runs inside the container (vps.configure)
//
// copy-journal:PATH copies every record to PATH instead (a dry run).
// untar:N and remove:N (inside safefs, in the plugin process) are read by
// the safefs package itself.
var faultSpec = os.Getenv("REINSTALL_FAULT")

func (r *run) faultAfterRecord(rec journal.Record) {
	if path, ok := strings.CutPrefix(faultSpec, "copy-journal:"); ok {
		// A dry run: keep a copy of every record, for the suite to learn
		// which records plugins write.
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
			line, _ := json.Marshal(rec)
			f.Write(append(line, '\n'))
			f.Close()
		}
		return
	}
	target, point, ok := strings.Cut(faultSpec, ":")
	if !ok || point != fmt.Sprintf("record:%d", rec.Seq) {
		return
	}
	r.kill(target)
}

func (r *run) faultDuringExec() {
	target, point, ok := strings.Cut(faultSpec, ":")
	if !ok || point != "exec" {
		return
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		r.kill(target)
	}()
}

func (r *run) kill(target string) {
	switch target {
	case "host":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "plugin":
		if r.current == nil {
			return
		}
		if p := r.plugins[pluginBinary(r.current.stage.Plugin)]; p != nil {
			syscall.Kill(p.Pid(), syscall.SIGKILL)
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// faultEnv passes the fault spec on to plugin processes.
func faultEnv() []string {
	if faultSpec == "" {
		return nil
	}
	return []string{"REINSTALL_FAULT=" + faultSpec}
}
