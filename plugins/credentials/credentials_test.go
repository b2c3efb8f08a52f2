package credentials

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reinstall-dev/reinstall/internal/oldarea"
	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// recordingUI keeps the stage's log lines.
type recordingUI struct {
	mu    sync.Mutex
	lines []string
}

func (u *recordingUI) Log(level sdk.Level, msg string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lines = append(u.lines, string(level)+": "+msg)
}
func (u *recordingUI) Progress(string, int64, int64, string) {}
func (u *recordingUI) Report(sdk.Progress)                   {}

func (u *recordingUI) text() string { return strings.Join(u.lines, "\n") }

// areas makes a private area with an old one at <private>/old, each with
// the given /etc files, and the run context a configure stage gets after
// the swap.
func areas(t *testing.T, newFiles, oldFiles map[string]string) sdk.RunContext {
	t.Helper()
	dir := t.TempDir()
	private := filepath.Join(dir, "private")
	for area, files := range map[string]map[string]string{private: newFiles, filepath.Join(private, "old"): oldFiles} {
		if err := os.MkdirAll(filepath.Join(area, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(area, "etc", name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	swap, err := oldarea.OutputsOf(filepath.Join(private, "old"), oldarea.PlacementOld)
	if err != nil {
		t.Fatal(err)
	}
	return sdk.RunContext{
		CTID: 101, Private: private, PrivatePrevious: private + ".previous",
		StageOutputs: map[string]map[string]string{"swap": swap},
	}
}

func runStage(t *testing.T, rc sdk.RunContext) (*sdk.Result, *recordingUI, error) {
	t.Helper()
	ui := &recordingUI{}
	res, err := stage{}.Run(context.Background(), &sdk.RunRequest{Context: rc, UI: ui})
	return res, ui, err
}

const (
	tmplPasswd = "root:x:0:0:root:/root:/bin/sh\n"
	oldPasswd  = "root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1001::/home/alice:/bin/sh\n"
	tmplShadow = "root:*:19000:0:99999:7:::\n"
	oldShadow  = "root:$6$s$h:19500:0:99999:7:::\nalice:$6$a$b:19600:0:99999:7:::\n"
)

// TestRunKeepsModeAndOwner: the merged file is the same inode's owner and
// mode, written atomically (no temporary file left), and the outputs say what changed.
func TestRunKeepsModeAndOwner(t *testing.T) {
	rc := areas(t, map[string]string{"passwd": tmplPasswd, "shadow": tmplShadow, "group": "root:x:0:\n"},
		map[string]string{"passwd": oldPasswd, "shadow": oldShadow, "group": "root:x:0:\n"})
	shadow := filepath.Join(rc.Private, "etc/shadow")
	if err := os.Chown(shadow, 0, 42); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shadow, 0o640); err != nil {
		t.Fatal(err)
	}
	res, ui, err := runStage(t, rc)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"changed": "passwd,shadow", "added": "1"}, res.Outputs); d != "" {
		t.Errorf("outputs (-want +got):\n%s", d)
	}
	if got := readString(t, shadow); got != oldShadow {
		t.Errorf("shadow = %q, want %q", got, oldShadow)
	}
	fi, err := os.Stat(shadow)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || st.Uid != 0 || st.Gid != 42 {
		t.Errorf("shadow is %v %d:%d, want -rw-r----- 0:42", fi.Mode(), st.Uid, st.Gid)
	}
	entries, _ := os.ReadDir(filepath.Join(rc.Private, "etc"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if d := cmp.Diff([]string{"group", "passwd", "shadow"}, names); d != "" {
		t.Errorf("etc holds (-want +got):\n%s", d)
	}
	if !strings.Contains(ui.text(), "/etc/passwd: 1 user added (alice), 1 user updated from the old container (root)") {
		t.Errorf("log:\n%s", ui.text())
	}
}

// TestRunNeverFollowsOldSymlinks: an old /etc/passwd that is a symlink, or
// an old /etc that is one, is skipped with a warning; the host file it
// points at is never read into the new container.
func TestRunNeverFollowsOldSymlinks(t *testing.T) {
	for _, tt := range []struct {
		name  string
		plant func(t *testing.T, old, hostDir string)
	}{
		{"file symlink", func(t *testing.T, old, hostDir string) {
			mustSymlink(t, filepath.Join(hostDir, "passwd"), filepath.Join(old, "etc/passwd"))
		}},
		{"relative file symlink", func(t *testing.T, old, hostDir string) {
			mustSymlink(t, "../../../host/passwd", filepath.Join(old, "etc/passwd"))
		}},
		{"directory symlink", func(t *testing.T, old, hostDir string) {
			if err := os.RemoveAll(filepath.Join(old, "etc")); err != nil {
				t.Fatal(err)
			}
			mustSymlink(t, hostDir, filepath.Join(old, "etc"))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := areas(t, map[string]string{"passwd": tmplPasswd}, map[string]string{})
			hostDir := filepath.Join(filepath.Dir(rc.Private), "host")
			if err := os.MkdirAll(hostDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(hostDir, "passwd"), []byte("hostuser:x:7:7::/:/bin/sh\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tt.plant(t, filepath.Join(rc.Private, "old"), hostDir)
			res, ui, err := runStage(t, rc)
			if err != nil {
				t.Fatal(err)
			}
			if got := readString(t, filepath.Join(rc.Private, "etc/passwd")); got != tmplPasswd {
				t.Errorf("passwd = %q, want the template's", got)
			}
			if res.Outputs["changed"] != "" || !strings.Contains(ui.text(), "warn: /etc/passwd of the old container skipped") {
				t.Errorf("outputs %v, log:\n%s", res.Outputs, ui.text())
			}
		})
	}
}

// TestRunUIDMismatchKeepsTemplateShadow: mysql is uid 27 and locked in the
// template, uid 995 with a hash in the old container: passwd keeps the
// template's entry and so does shadow, with a warning; the old hash is not
// installed for the template's account.
func TestRunUIDMismatchKeepsTemplateShadow(t *testing.T) {
	const (
		tmplMysql   = "mysql:x:27:27:MySQL:/var/lib/mysql:/sbin/nologin\n"
		tmplShadowM = "mysql:!!:19000::::::\n"
	)
	rc := areas(t,
		map[string]string{"passwd": tmplPasswd + tmplMysql, "shadow": tmplShadow + tmplShadowM},
		map[string]string{
			"passwd": oldPasswd + "mysql:x:995:995::/var/lib/mysql:/bin/false\n",
			"shadow": oldShadow + "mysql:$6$m$oldmysqlhash:19500:0:99999:7:::\n",
		})
	_, ui, err := runStage(t, rc)
	if err != nil {
		t.Fatal(err)
	}
	wantShadow := "root:$6$s$h:19500:0:99999:7:::\n" + tmplShadowM + "alice:$6$a$b:19600:0:99999:7:::\n"
	if got := readString(t, filepath.Join(rc.Private, "etc/shadow")); got != wantShadow {
		t.Errorf("shadow = %q, want %q", got, wantShadow)
	}
	if got := readString(t, filepath.Join(rc.Private, "etc/passwd")); !strings.Contains(got, tmplMysql) {
		t.Errorf("passwd = %q, want the template's mysql", got)
	}
	if !strings.Contains(ui.text(), "warn: /etc/shadow: user mysql keeps the template's entry, as in passwd, where the id differs") {
		t.Errorf("log:\n%s", ui.text())
	}
}

func TestRunResetPwDBAndNoOldArea(t *testing.T) {
	rc := areas(t, map[string]string{"passwd": tmplPasswd}, map[string]string{"passwd": oldPasswd})
	reset := rc
	reset.Options.ResetPwDB = true
	if _, _, err := runStage(t, reset); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, filepath.Join(rc.Private, "etc/passwd")); got != tmplPasswd {
		t.Errorf("--resetpwdb: passwd = %q, want the template's", got)
	}
	noSwap := rc
	noSwap.StageOutputs = map[string]map[string]string{}
	if _, _, err := runStage(t, noSwap); err == nil || !strings.Contains(err.Error(), "no old private area") {
		t.Errorf("without a swap: %v", err)
	}
	elsewhere := rc
	elsewhere.StageOutputs = map[string]map[string]string{"swap": oldarea.Outputs("/etc", oldarea.PlacementOld, 1, 1)}
	if _, _, err := runStage(t, elsewhere); err == nil || !strings.Contains(err.Error(), "not at") {
		t.Errorf("an old area outside the two places: %v", err)
	}
}

func readString(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestLostPasswordsWarn: across templates with and without /etc/shadow
// (Debian, then busybox, then Debian again), a password that cannot be
// kept is a warning naming its accounts; the template's own accounts and
// accounts without a password draw none.
func TestLostPasswordsWarn(t *testing.T) {
	const (
		debianPasswd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1500:1500::/home/alice:/bin/bash\nbob:x:1501:1501::/home/bob:/bin/bash\n"
		debianShadow = "root:*:19000:0:99999:7:::\nalice:$6$a$b:19600:0:99999:7:::\nbob:!:19600:0:99999:7:::\n"
		bbPasswd     = "root:x:0:0:root:/root:/bin/sh\n"
	)
	tests := []struct {
		name               string
		newFiles, oldFiles map[string]string
		wantWarn           []string // exact warn lines
	}{
		{
			name:     "Debian to busybox: the template has no shadow",
			newFiles: map[string]string{"passwd": bbPasswd},
			oldFiles: map[string]string{"passwd": debianPasswd, "shadow": debianShadow},
			wantWarn: []string{"warn: /etc/shadow: the new container has none, so the password of the old container's user alice cannot be kept (set it again in the new container)"},
		},
		{
			name:     "busybox to Debian: the old container had lost its shadow",
			newFiles: map[string]string{"passwd": "root:x:0:0:root:/root:/bin/bash\n", "shadow": "root:*:19000:0:99999:7:::\n"},
			oldFiles: map[string]string{"passwd": debianPasswd},
			wantWarn: []string{"warn: /etc/shadow: the old container has none, though its /etc/passwd says the password of users alice, bob is there: they have no password to keep (set it again in the new container)"},
		},
		{
			name:     "busybox to busybox",
			newFiles: map[string]string{"passwd": bbPasswd},
			oldFiles: map[string]string{"passwd": bbPasswd},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ui, err := runStage(t, areas(t, tt.newFiles, tt.oldFiles))
			if err != nil {
				t.Fatal(err)
			}
			var warns []string
			for _, l := range ui.lines {
				if strings.HasPrefix(l, "warn: ") {
					warns = append(warns, l)
				}
			}
			if d := cmp.Diff(tt.wantWarn, warns); d != "" {
				t.Errorf("warnings (-want +got):\n%s\nall lines:\n%s", d, ui.text())
			}
		})
	}
}
