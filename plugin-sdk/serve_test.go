package sdk

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"
)

// TestWatchParent runs a parent that starts a plugin-like child (leading its
// own session, with a grandchild) and exits; the child's watchdog must end
// both. This test process is made a subreaper so the orphans come to it.
func TestWatchParent(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("cannot become a subreaper: %v", err)
	}
	defer func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) }()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "SDK_TEST_HELPER=parent")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var child, grandchild int
	line, err := bufio.NewReader(out).ReadString('\n')
	if _, scanErr := fmt.Sscanf(line, "child=%d grandchild=%d", &child, &grandchild); err != nil || scanErr != nil {
		t.Fatalf("helper said %q (%v, %v)", line, err, scanErr)
	}
	_ = cmd.Wait()
	for _, pid := range []int{child, grandchild} {
		if !reapedWithin(pid, 10*time.Second) {
			_ = unix.Kill(pid, unix.SIGKILL)
			t.Errorf("pid %d still alive 10s after its parent exited", pid)
		}
	}
}

// reapedWithin waits for pid to end, reaping it if it was re-parented to us.
func reapedWithin(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if got == pid {
			return true
		}
		if errors.Is(err, unix.ECHILD) {
			if _, statErr := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(statErr) {
				return true
			}
		}
	}
	return false
}

func TestHelperProcess(t *testing.T) {
	switch os.Getenv("SDK_TEST_HELPER") {
	case "parent":
		child := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		child.Env = append(os.Environ(), "SDK_TEST_HELPER=child")
		child.Stdout = os.Stdout
		child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := child.Start(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		time.Sleep(300 * time.Millisecond)
		os.Exit(0)
	case "child":
		sleep := exec.Command("sleep", "60")
		if err := sleep.Start(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Printf("child=%d grandchild=%d\n", os.Getpid(), sleep.Process.Pid)
		watchParent(hclog.NewNullLogger(), os.Getppid(), 20*time.Millisecond)
	}
}
